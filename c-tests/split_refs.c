/*
 * References and dimension scales with split datasets. An HDF5 reference (and a dimension scale
 * attachment, which is made of references) holds an address inside one file; a split dataset
 * lives in its own file, so such a reference would silently point at a wrong object elsewhere.
 * The connector refuses them with a clear error; between datasets kept in the main file (here
 * by the policy "exclude" on the /inline group) they work as natively. Run through dset_split only.
 */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <string.h>

#include "check.h"

static void expect_refused(herr_t rc, const char *needle) {
    CHECK(rc < 0);
    if (!stack_has(needle)) {
        fprintf(stderr, "no dset_split message containing \"%s\":\n", needle);
        H5Eprint2(H5E_DEFAULT, stderr);
        exit(1);
    }
    H5Eclear2(H5E_DEFAULT);
}

static hid_t dataset(hid_t file, const char *name) {
    hsize_t n = 4;
    int     v[4] = {1, 2, 3, 4};
    hid_t   s, d, lcpl;
    OK(lcpl = H5Pcreate(H5P_LINK_CREATE));
    OK(H5Pset_create_intermediate_group(lcpl, 1));
    OK(s = H5Screate_simple(1, &n, NULL));
    OK(d = H5Dcreate2(file, name, H5T_NATIVE_INT, s, lcpl, H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    OK(H5Sclose(s));
    OK(H5Pclose(lcpl));
    return d;
}

int main(int argc, char **argv) {
    char        path[1200];
    hid_t       file, u, x, iu, ix;
    H5R_ref_t   ref;
    hobj_ref_t  old;
    H5L_info2_t info;

    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    snprintf(path, sizeof path, "%s/refs.h5", argv[1]);
    OK(H5Eset_auto2(H5E_DEFAULT, NULL, NULL)); /* CHECK prints; keep the stack for inspection */
    OK(file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    u = dataset(file, "/u");
    x = dataset(file, "/x");
    OK(H5Lget_info2(file, "/x", &info, H5P_DEFAULT));
    CHECK(info.type == H5L_TYPE_EXTERNAL); /* really split */

    /* references to split datasets: refused */
    expect_refused(H5Rcreate_object(file, "/x", H5P_DEFAULT, &ref), "cannot reference dataset /x");
    expect_refused(H5Rcreate_object(x, ".", H5P_DEFAULT, &ref), "cannot reference dataset /x");
    expect_refused(H5Rcreate(&old, file, "/x", H5R_OBJECT, -1), "cannot reference dataset /x");

    /* dimension scales across split datasets: refused, and nothing half-attached */
    OK(H5DSset_scale(x, "x"));
    expect_refused(H5DSattach_scale(u, x, 0), "stored in its own split file");
    CHECK(H5DSis_attached(u, x, 0) <= 0);
    CHECK(H5Aexists(u, "DIMENSION_LIST") == 0);
    CHECK(H5Aexists(x, "REFERENCE_LIST") == 0);

    /* in the main file (kept there by policy) they work as natively */
    iu = dataset(file, "/inline/u");
    ix = dataset(file, "/inline/x");
    OK(H5Lget_info2(file, "/inline/x", &info, H5P_DEFAULT));
    CHECK(info.type == H5L_TYPE_HARD);
    OK(H5DSset_scale(ix, "x"));
    OK(H5DSattach_scale(iu, ix, 0));
    CHECK(H5DSis_attached(iu, ix, 0) > 0);
    OK(H5Rcreate_object(file, "/inline/x", H5P_DEFAULT, &ref));
    OK(H5Rdestroy(&ref));

    /* a dataset that holds references stays in the main file */
    {
        hsize_t one = 1;
        hid_t   s, d;
        OK(H5Rcreate(&old, file, "/inline/x", H5R_OBJECT, -1));
        OK(s = H5Screate_simple(1, &one, NULL));
        OK(d = H5Dcreate2(file, "/refs", H5T_STD_REF_OBJ, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        OK(H5Dwrite(d, H5T_STD_REF_OBJ, H5S_ALL, H5S_ALL, H5P_DEFAULT, &old));
        OK(H5Lget_info2(file, "/refs", &info, H5P_DEFAULT));
        CHECK(info.type == H5L_TYPE_HARD);
        OK(H5Dclose(d));
        OK(H5Sclose(s));
    }
    OK(H5Dclose(iu));
    OK(H5Dclose(ix));
    OK(H5Dclose(u));
    OK(H5Dclose(x));
    OK(H5Fclose(file));
    printf("split_refs: all checks passed\n");
    return 0;
}
