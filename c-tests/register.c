/*
 * Explicit registration through include/dset_split.h (no environment variables): the C API,
 * info strings round-tripping through HDF5's own info calls, and bad input reported on the
 * HDF5 error stack under the dset_split error class.
 */
#include <hdf5.h>
#include <string.h>

#include "check.h"
#include "dset_split.h"

static char dir[1024];

static void bad_info(hid_t fapl, const char *info, const char *needle) {
    /* automatic printing is off (see main), so the stack is left for us to inspect */
    CHECK(H5Pset_fapl_dset_split(fapl, info) < 0);
    if (!stack_has(needle)) {
        fprintf(stderr, "info \"%s\": no dset_split message containing \"%s\":\n", info, needle);
        H5Eprint2(H5E_DEFAULT, stderr);
        exit(1);
    }
    H5Eclear2(H5E_DEFAULT);
}

static void write_and_read(hid_t fapl, const char *name) {
    char    file_name[1200], conn[64] = "";
    hid_t   file, space, dset;
    hsize_t n = 5;
    double  w[5] = {1, 2, 3, 4, 5}, r[5];
    snprintf(file_name, sizeof file_name, "%s/%s", dir, name);
    OK(file = H5Fcreate(file_name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl));
    CHECK(H5VLget_connector_name(file, conn, sizeof conn) > 0 && strcmp(conn, DSET_SPLIT_NAME) == 0);
    OK(space = H5Screate_simple(1, &n, NULL));
    OK(dset = H5Dcreate2(file, "v", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w));
    OK(H5Dclose(dset));
    OK(H5Sclose(space));
    OK(H5Fclose(file));
    /* read back natively: the file is plain HDF5 */
    OK(file = H5Fopen(file_name, H5F_ACC_RDONLY, H5P_DEFAULT));
    OK(dset = H5Dopen2(file, "v", H5P_DEFAULT));
    OK(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, r));
    CHECK(memcmp(w, r, sizeof w) == 0);
    OK(H5Dclose(dset));
    OK(H5Fclose(file));
}

int main(int argc, char **argv) {
    hid_t    id, fapl;
    void    *info = NULL, *info2 = NULL;
    char    *text = NULL;
    int      cmp  = -1;
    uint64_t caps = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    /* failures are printed by CHECK; H5E_BEGIN_TRY would clear the stack we want to inspect */
    OK(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
    CHECK(strcmp(dset_split_version(), DSET_SPLIT_VERSION) == 0);

    OK(id = H5VL_dset_split_register());
    CHECK(H5VLis_connector_registered_by_name(DSET_SPLIT_NAME) > 0);
    CHECK(H5VLis_connector_registered_by_value(DSET_SPLIT_VALUE) > 0);

    OK(fapl = H5Pcreate(H5P_FILE_ACCESS));
    OK(H5Pset_fapl_dset_split(fapl, "under_vol=0;under_info={}"));
    write_and_read(fapl, "explicit.h5");

    /* the info round-trips through HDF5's own info calls */
    OK(H5Pget_vol_info(fapl, &info));
    CHECK(info != NULL);
    OK(H5VLconnector_info_to_str(info, id, &text));
    CHECK(text && strcmp(text, "under_vol=0;under_info={}") == 0);
    OK(H5VLconnector_str_to_info(text, id, &info2));
    OK(H5VLcmp_connector_info(&cmp, id, info, info2));
    CHECK(cmp == 0);
    OK(H5VLfree_connector_info(id, info));
    OK(H5VLfree_connector_info(id, info2));
    H5free_memory(text);
    OK(H5Pget_vol_cap_flags(fapl, &caps));
    CHECK(caps & H5VL_CAP_FLAG_FILE_BASIC);
    CHECK(!(caps & H5VL_CAP_FLAG_THREADSAFE));

    /* NULL and "" mean the native connector below */
    OK(H5Pset_fapl_dset_split(fapl, NULL));
    write_and_read(fapl, "null_info.h5");
    OK(H5Pset_fapl_dset_split(fapl, ""));
    write_and_read(fapl, "empty_info.h5");

    /* bad input: clear messages in our class, and the property list stays usable */
    bad_info(fapl, "under_vol=0;colour=red", "unknown key 'colour'");
    bad_info(fapl, "under_vol=dset_split", "is dset_split itself");
    bad_info(fapl, "under_vol=469", "is dset_split itself");
    bad_info(fapl, "under_vol=0;under_info={", "never closed");
    bad_info(fapl, "under_vol=12345", "no VOL connector with value 12345");
    bad_info(fapl, "under_vol=no_such_connector", "no VOL connector named 'no_such_connector'");
    bad_info(fapl, "under_vol=0;under_vol=0", "given twice");
    bad_info(fapl, "under_vol=0;under_info=x", "braced");
    write_and_read(fapl, "still_usable.h5");

    OK(H5Pclose(fapl));
    OK(H5VLclose(id));
    printf("register: all checks passed\n");
    return 0;
}
