/*
 * The virtual form of split datasets (layout=virtual) from an ordinary C program: the dataset
 * object is in the main file, its data in its split file. Through the connector: multi-dataset
 * I/O, H5Dset_extent, the creation properties asked for, chunk queries and direct chunk I/O,
 * dimension scales (H5DS), object references and their dereference, the dataset's file and the
 * file's object count, as natively. Then the values are read back with the native connector
 * (through the virtual datasets). Run through dset_split with its default layout (virtual).
 */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"

static hid_t make(hid_t file, const char *name, hsize_t n, hsize_t max, hsize_t chunk, int deflate) {
    hid_t s, dcpl, d;
    OK(s = H5Screate_simple(1, &n, &max));
    OK(dcpl = H5Pcreate(H5P_DATASET_CREATE));
    if (chunk) {
        OK(H5Pset_chunk(dcpl, 1, &chunk));
        if (deflate)
            OK(H5Pset_deflate(dcpl, 6));
    }
    OK(d = H5Dcreate2(file, name, H5T_NATIVE_INT, s, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    OK(H5Pclose(dcpl));
    OK(H5Sclose(s));
    return d;
}

int main(int argc, char **argv) {
    hid_t       file, d[2], types[2], ms[2], fs[2], dcpl, space, scale, got, native;
    const void *wb[2];
    void       *rb[2];
    int         a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, ra[4], rb2[4], v[8];
    hsize_t     dims = 8, chunk = 0, n = 0, off = 4;
    H5L_info2_t info;
    H5O_info2_t oinfo;
    H5R_ref_t   ref;
    struct stat st;

    scratch_from_args(argc, argv);
    OK(file = H5Fcreate(scratch("v.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    d[0] = make(file, "/a", 4, 4, 0, 0);
    d[1] = make(file, "/b", 4, H5S_UNLIMITED, 2, 0);
    {
        /* the creation properties asked for: chunked and deflated */
        hid_t c = make(file, "/c", 4, 4, 2, 1);
        OK(dcpl = H5Dget_create_plist(c));
        CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_nfilters(dcpl) == 1);
        OK(H5Pclose(dcpl));
        OK(H5Dclose(c));
    }

    /* a virtual dataset of the main file, its data in its split file */
    OK(H5Lget_info2(file, "/b", &info, H5P_DEFAULT));
    CHECK(info.type == H5L_TYPE_HARD);
    CHECK(stat(scratch("v-split/b.h5"), &st) == 0);

    /* multi-dataset I/O over two split files */
    types[0] = types[1] = H5T_NATIVE_INT;
    ms[0] = ms[1] = fs[0] = fs[1] = H5S_ALL;
    wb[0] = a, wb[1] = b, rb[0] = ra, rb[1] = rb2;
    OK(H5Dwrite_multi(2, d, types, ms, fs, H5P_DEFAULT, wb));
    OK(H5Dread_multi(2, d, types, ms, fs, H5P_DEFAULT, rb));
    CHECK(memcmp(ra, a, sizeof a) == 0 && memcmp(rb2, b, sizeof b) == 0);

    /* chunked as asked; the extent follows H5Dset_extent */
    OK(dcpl = H5Dget_create_plist(d[1]));
    CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED);
    OK(H5Pget_chunk(dcpl, 1, &chunk));
    CHECK(chunk == 2);
    OK(H5Pclose(dcpl));
    OK(H5Dset_extent(d[1], &dims));
    OK(space = H5Dget_space(d[1]));
    OK(H5Sget_simple_extent_dims(space, &n, NULL));
    CHECK(n == 8);
    OK(H5Sclose(space));
    OK(H5Dget_num_chunks(d[1], H5S_ALL, &n));
    CHECK(n == 2);
    CHECK(H5Dget_storage_size(d[1]) > 0);

    /* direct chunk write of elements 4..5, read back */
    {
        int      raw[2] = {40, 50}, back[2];
        uint32_t filters = 0;
        size_t   size    = sizeof back;
        OK(H5Dwrite_chunk(d[1], H5P_DEFAULT, filters, &off, sizeof raw, raw));
#if H5_VERSION_GE(2, 0, 0)
        OK(H5Dread_chunk2(d[1], H5P_DEFAULT, &off, &filters, back, &size));
#else
        OK(H5Dread_chunk(d[1], H5P_DEFAULT, &off, &filters, back));
#endif
        CHECK(back[0] == 40 && back[1] == 50 && size == sizeof back);
        OK(H5Dread(d[1], H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        CHECK(v[0] == 5 && v[3] == 8 && v[4] == 40 && v[5] == 50);
    }

    /* a dimension scale and a reference, both split datasets */
    OK(H5DSset_scale(d[0], "x"));
    OK(H5DSattach_scale(d[1], d[0], 0));
    CHECK(H5DSis_attached(d[1], d[0], 0) == 1);
    OK(H5Rcreate_object(file, "/b", H5P_DEFAULT, &ref));
    OK(got = H5Ropen_object(&ref, H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Dread(got, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    CHECK(v[4] == 40);
    OK(H5Dclose(got));
    OK(H5Rdestroy(&ref));

    /* the dataset's file is the main file, which counts it as natively */
    OK(got = H5Iget_file_id(d[1]));
    OK(H5Oget_info3(got, &oinfo, H5O_INFO_BASIC));
    {
        H5O_info2_t main_info;
        OK(H5Oget_info3(file, &main_info, H5O_INFO_BASIC));
        CHECK(oinfo.fileno == main_info.fileno);
    }
    OK(H5Fclose(got));
    CHECK(H5Fget_obj_count(file, H5F_OBJ_DATASET) == 2);

    OK(H5Dclose(d[0]));
    OK(H5Dclose(d[1]));
    OK(H5Fclose(file));

    /* the native connector reads the values through the virtual datasets */
    OK(native = H5Pcreate(H5P_FILE_ACCESS));
    OK(H5Pset_vol(native, H5VL_NATIVE, NULL));
    OK(file = H5Fopen(scratch("v.h5"), H5F_ACC_RDONLY, native));
    OK(got = H5Dopen2(file, "/b", H5P_DEFAULT));
    OK(dcpl = H5Dget_create_plist(got));
    CHECK(H5Pget_layout(dcpl) == H5D_VIRTUAL);
    OK(H5Pclose(dcpl));
    OK(H5Dread(got, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    CHECK(v[0] == 5 && v[4] == 40 && v[5] == 50);
    OK(scale = H5Dopen2(file, "/a", H5P_DEFAULT));
    CHECK(H5DSis_attached(got, scale, 0) == 1);
    OK(H5Dclose(scale));
    OK(H5Dclose(got));
    OK(H5Fclose(file));
    OK(H5Pclose(native));

    /* H5Fdelete through the connector removes the split files the virtual datasets map onto */
    OK(H5Fdelete(scratch("v.h5"), H5P_DEFAULT));
    CHECK(stat(scratch("v.h5"), &st) != 0 && stat(scratch("v-split/b.h5"), &st) != 0);
    CHECK(stat(scratch("v-split"), &st) != 0);
    printf("split_virtual: ok\n");
    return 0;
}
