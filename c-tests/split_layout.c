/*
 * The split layout seen from an ordinary C program run through dset_split (HDF5_VOL_CONNECTOR):
 * where files go, relative links, reading with the native connector (no dset_split), deleting,
 * moving and copying split datasets, truncation, a missing split file, a read-only main file,
 * and objects that stay open after the main file is closed.
 */
#include <hdf5.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static int exists(const char *rel) {
    struct stat st;
    return stat(scratch(rel), &st) == 0;
}

/* A file access property list that names the native connector: reads without dset_split. */
static hid_t native_fapl(void) {
    hid_t fapl, native;
    OK(fapl = H5Pcreate(H5P_FILE_ACCESS));
    OK(native = H5VLget_connector_id_by_name("native"));
    OK(H5Pset_vol(fapl, native, NULL));
    OK(H5VLclose(native));
    return fapl;
}

static void write_ints(hid_t loc, const char *name, int base, hid_t lcpl) {
    hsize_t n = 8;
    int     v[8];
    hid_t   s, d;
    for (int i = 0; i < 8; i++)
        v[i] = base + i;
    OK(s = H5Screate_simple(1, &n, NULL));
    OK(d = H5Dcreate2(loc, name, H5T_NATIVE_INT, s, lcpl, H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    OK(H5Dclose(d));
    OK(H5Sclose(s));
}

static int read_first(hid_t file, const char *name) {
    int   v[8];
    hid_t d;
    OK(d = H5Dopen2(file, name, H5P_DEFAULT));
    OK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    OK(H5Dclose(d));
    return v[0];
}

static void expect_external(hid_t file, const char *name, const char *target) {
    H5L_info2_t info;
    char        val[512];
    const char *fname, *oname;
    unsigned    flags;
    OK(H5Lget_info2(file, name, &info, H5P_DEFAULT));
    CHECK(info.type == H5L_TYPE_EXTERNAL);
    OK(H5Lget_val(file, name, val, sizeof val, H5P_DEFAULT));
    OK(H5Lunpack_elink_val(val, info.u.val_size, &flags, &fname, &oname));
    if (strcmp(fname, target) != 0 || strcmp(oname, "/data") != 0) {
        fprintf(stderr, "%s -> %s:%s, expected %s:/data\n", name, fname, oname, target);
        exit(1);
    }
}

/* What H5Iget_name says of open datasets as links are moved, renamed and deleted, in a file
 * opened with `fapl`; the datasets keep working throughout. HDF5 renames an open object when its
 * own link moves, and unnames it when its own link is deleted, but not when a group above it is
 * moved (then later moves of its new path do not rename it either). */
static void names_of_open_datasets(hid_t fapl, const char *name, hid_t lcpl, char out[5][64]) {
    hid_t file, d, e;
    int   v[8] = {7, 7, 7, 7, 7, 7, 7, 7};
    OK(file = H5Fcreate(scratch(name), H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    write_ints(file, "/g/a", 500, lcpl);
    write_ints(file, "/y", 600, lcpl);
    OK(H5Gclose(H5Gcreate2(file, "/h", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
    OK(d = H5Dopen2(file, "/g/a", H5P_DEFAULT));
    OK(e = H5Dopen2(file, "/y", H5P_DEFAULT));
    OK(H5Lmove(file, "/g/a", file, "/h/b", H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Iget_name(d, out[0], 64));
    OK(H5Lmove(file, "/h/b", file, "/h/c", H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Iget_name(d, out[1], 64));
    OK(H5Lmove(file, "/h", file, "/k", H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Iget_name(d, out[2], 64));
    OK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    CHECK(read_first(file, "/k/c") == 7);
    OK(H5Lmove(file, "/k/c", file, "/k/d", H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Iget_name(d, out[3], 64));
    OK(H5Ldelete(file, "/y", H5P_DEFAULT));
    CHECK(H5Iget_name(e, out[4], 64) == 0);
    CHECK(read_first(file, "/k/d") == 7);
    OK(H5Dclose(d));
    OK(H5Dclose(e));
    OK(H5Fclose(file));
}

int main(int argc, char **argv) {
    hid_t file, lcpl, nat, d;

    scratch_from_args(argc, argv);
    OK(lcpl = H5Pcreate(H5P_LINK_CREATE));
    OK(H5Pset_create_intermediate_group(lcpl, 1));

    /* layout and relative links */
    OK(file = H5Fcreate(scratch("run.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    write_ints(file, "/fields/u", 100, lcpl);
    write_ints(file, "/fields/v", 200, lcpl);
    write_ints(file, "/t", 300, lcpl);
    CHECK(exists("run-split/fields/u.h5") && exists("run-split/fields/v.h5") && exists("run-split/t.h5"));
    expect_external(file, "/fields/u", "run-split/fields/u.h5");

    /* delete, move, copy */
    OK(H5Ldelete(file, "/t", H5P_DEFAULT));
    CHECK(exists("run-split/t.h5")); /* removed when the main file closes */
    OK(H5Lmove(file, "/fields/v", file, "/archive/v_old", lcpl, H5P_DEFAULT));
    CHECK(!exists("run-split/fields/v.h5") && exists("run-split/archive/v_old.h5"));
    expect_external(file, "/archive/v_old", "run-split/archive/v_old.h5");
    OK(H5Ocopy(file, "/fields/u", file, "/backup/u", H5P_DEFAULT, lcpl));
    CHECK(exists("run-split/backup/u.h5"));

    /* an object still open after the main file is closed keeps working */
    OK(d = H5Dopen2(file, "/fields/u", H5P_DEFAULT));
    OK(H5Fclose(file));
    CHECK(!exists("run-split/t.h5"));
    {
        int v[8];
        OK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
        CHECK(v[0] == 100);
        OK(H5Dclose(d));
    }

    /* plain HDF5 (the native connector) reads everything, from another working directory */
    OK(nat = native_fapl());
    CHECK(chdir("/") == 0);
    OK(file = H5Fopen(scratch("run.h5"), H5F_ACC_RDONLY, nat));
    CHECK(read_first(file, "/fields/u") == 100);
    CHECK(read_first(file, "/archive/v_old") == 200);
    CHECK(read_first(file, "/backup/u") == 100);
    OK(H5Fclose(file));

    /* a missing split file: a message that names the dataset and how to get it */
    CHECK(rename(scratch("run-split/backup/u.h5"), scratch("u.h5.away")) == 0);
    OK(file = H5Fopen(scratch("run.h5"), H5F_ACC_RDONLY, H5P_DEFAULT));
    {
        H5E_auto2_t func;
        void       *data;
        OK(H5Eget_auto2(H5E_DEFAULT, &func, &data));
        OK(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
        CHECK(H5Dopen2(file, "/backup/u", H5P_DEFAULT) < 0);
        CHECK(stack_has("dataset /backup/u is stored in run-split/backup/u.h5"));
        CHECK(stack_has("dvc pull run-split/backup/u.h5"));
        /* the explanation is the cause HDF5 reports (innermost), so clients that show only the
         * cause (h5py) show it */
        CHECK(innermost_has("which is missing"));
        H5Eclear2(H5E_DEFAULT);
        OK(H5Eset_auto2(H5E_DEFAULT, func, data));
    }
    CHECK(rename(scratch("u.h5.away"), scratch("run-split/backup/u.h5")) == 0);

    /* a read-only main file refuses new datasets without writing anything */
    CHECK(create_fails(file, "/new"));
    CHECK(!exists("run-split/new.h5"));
    OK(H5Fclose(file));

    /* truncating the main file removes its old split files */
    OK(file = H5Fcreate(scratch("run.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    CHECK(!exists("run-split/fields/u.h5") && !exists("run-split/archive/v_old.h5"));
    write_ints(file, "w", 400, lcpl);
    OK(H5Fclose(file));
    OK(file = H5Fopen(scratch("run.h5"), H5F_ACC_RDONLY, nat));
    CHECK(read_first(file, "w") == 400);
    OK(H5Fclose(file));

    /* open split datasets are renamed by moves and deletes as HDF5 renames open objects */
    {
        char split_names[5][64] = {{0}}, native_names[5][64] = {{0}};
        names_of_open_datasets(H5P_DEFAULT, "names.h5", lcpl, split_names);
        names_of_open_datasets(nat, "names_native.h5", lcpl, native_names);
        for (int i = 0; i < 5; i++) {
            if (strcmp(split_names[i], native_names[i]) != 0)
                fprintf(stderr, "name %d: '%s' through dset_split, '%s' natively\n", i, split_names[i],
                        native_names[i]);
            CHECK(strcmp(split_names[i], native_names[i]) == 0);
        }
        CHECK(strcmp(split_names[0], "/h/b") == 0 && strcmp(split_names[1], "/h/c") == 0);
        CHECK(strcmp(split_names[2], "/h/c") == 0 && split_names[4][0] == '\0');
        CHECK(exists("names-split/k/d.h5") && !exists("names-split/y.h5"));
    }

    /* the connector counts links to split files once, then counts deletes down: a link made in
     * between (here a hard link with H5L_SAME_LOC, which reaches the connector without a
     * location object) must keep the split file alive */
    OK(file = H5Fcreate(scratch("counts.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    write_ints(file, "/a", 700, lcpl);
    write_ints(file, "/b", 800, lcpl);
    OK(H5Ldelete(file, "/b", H5P_DEFAULT));
    OK(H5Lcreate_hard(file, "/a", H5L_SAME_LOC, "/a2", H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Lcreate_hard(H5L_SAME_LOC, "/a", file, "/a3", H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Ldelete(file, "/a", H5P_DEFAULT));
    OK(H5Ldelete(file, "/a2", H5P_DEFAULT));
    OK(H5Fclose(file)); /* split files of deleted datasets go when the main file closes */
    CHECK(!exists("counts-split/b.h5") && exists("counts-split/a.h5"));
    OK(file = H5Fopen(scratch("counts.h5"), H5F_ACC_RDWR, H5P_DEFAULT));
    CHECK(read_first(file, "/a3") == 700);
    OK(H5Ldelete(file, "/a3", H5P_DEFAULT));
    OK(H5Fclose(file));
    CHECK(!exists("counts-split/a.h5"));

    OK(H5Pclose(nat));
    OK(H5Pclose(lcpl));
    printf("split_layout: all checks passed\n");
    return 0;
}
