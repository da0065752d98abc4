/*
 * References and dimension scales across files (src/split/xref.rs), from an ordinary C program
 * through dset_split (default layout): HDF5 writes them silently (wrong objects, or a file name as
 * it was opened); the connector refuses them with its own error, leaving nothing half-made:
 * - H5DSattach_scale of a scale in another file, also with both objects at the same address;
 * - an old object reference (hobj_ref_t) of another file, in an attribute;
 * - a new-style reference (H5R_ref_t) of another file, in an attribute and in a dataset;
 * - a reference made by a name that crosses an external link into another file.
 * References and scales inside each file keep working, and read back natively.
 */
#include <hdf5.h>
#include <hdf5_hl.h>
#include <string.h>

#include "check.h"

static hid_t dataset(hid_t file, const char *name) {
    hsize_t n = 4;
    int     v[4] = {1, 2, 3, 4};
    hid_t   s, d;
    OK(s = H5Screate_simple(1, &n, NULL));
    OK(d = H5Dcreate2(file, name, H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    OK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
    OK(H5Sclose(s));
    return d;
}

/* `call` fails with a dset_split message containing `needle`. */
#define REFUSED(call, needle)                                                                       \
    do {                                                                                            \
        herr_t rc_;                                                                                 \
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);                                                      \
        rc_ = (call);                                                                               \
        CHECK(rc_ < 0);                                                                             \
        CHECK(stack_has(needle));                                                                   \
        H5Eclear2(H5E_DEFAULT);                                                                     \
    } while (0)

int main(int argc, char **argv) {
    hid_t      a, b, xa, other, yb, zb, s1, s2, attr, d, lcpl;
    hobj_ref_t old;
    H5R_ref_t  ref[2];
    hsize_t    two = 2;
    int        dims_attached;

    scratch_from_args(argc, argv);
    OK(a = H5Fcreate(scratch("a.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    OK(b = H5Fcreate(scratch("b.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    /* the first dataset of each new file: both at the same address */
    xa    = dataset(a, "x");
    yb    = dataset(b, "y");
    other = dataset(a, "other");
    zb    = dataset(b, "z");
    OK(H5DSset_scale(yb, "y"));
    OK(s1 = H5Screate(H5S_SCALAR));
    OK(s2 = H5Screate_simple(1, &two, NULL));

    /* a scale of another file: refused before DIMENSION_LIST is made */
    /* (H5DS's own cleanup calls clear the error stack: the direct calls below check our message) */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    CHECK(H5DSattach_scale(xa, yb, 0) < 0);
    CHECK(H5Aexists(xa, "DIMENSION_LIST") == 0);
    CHECK(H5Aexists(yb, "REFERENCE_LIST") == 0);
    /* ... and the other way round */
    OK(H5DSset_scale(other, "other"));
    CHECK(H5DSattach_scale(zb, other, 0) < 0);
    CHECK(H5Aexists(zb, "DIMENSION_LIST") == 0);

    /* an old object reference of b in an attribute of a (at an address where a has nothing: an
     * address both files handed out could be either's, and is let through) */
    OK(H5Dclose(dataset(b, "w")));
    OK(H5Rcreate(&old, b, "w", H5R_OBJECT, -1));
    OK(attr = H5Acreate2(xa, "old", H5T_STD_REF_OBJ, s1, H5P_DEFAULT, H5P_DEFAULT));
    REFUSED(H5Awrite(attr, H5T_STD_REF_OBJ, &old), "an object reference is an address inside one file");
    OK(H5Aclose(attr));
    OK(H5Adelete(xa, "old"));

    /* new-style references of b in an attribute and a dataset of a */
    OK(H5Rcreate_object(b, "y", H5P_DEFAULT, &ref[0]));
    OK(H5Rcreate_object(a, "x", H5P_DEFAULT, &ref[1]));
    OK(attr = H5Acreate2(xa, "new", H5T_STD_REF, s1, H5P_DEFAULT, H5P_DEFAULT));
    REFUSED(H5Awrite(attr, H5T_STD_REF, &ref[0]), "records the other file's name");
    OK(H5Awrite(attr, H5T_STD_REF, &ref[1])); /* a's own */
    OK(H5Aclose(attr));
    OK(d = H5Dcreate2(a, "refs", H5T_STD_REF, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    REFUSED(H5Dwrite(d, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, ref), "records the other file's name");
    {
        H5R_ref_t own[2] = {ref[1], ref[1]};
        OK(H5Dwrite(d, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, own));
    }
    OK(H5Dclose(d));
    OK(H5Rdestroy(&ref[0]));
    OK(H5Rdestroy(&ref[1]));

    /* a reference by a name that crosses an external link into b */
    OK(lcpl = H5Pcreate(H5P_LINK_CREATE));
    OK(H5Lcreate_external("b.h5", "/", a, "ext", lcpl, H5P_DEFAULT));
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    CHECK(H5Rcreate_object(a, "ext/z", H5P_DEFAULT, &ref[0]) < 0);
    CHECK(stack_has("the name leads into another file"));
    H5Eclear2(H5E_DEFAULT);
    REFUSED(H5Rcreate(&old, a, "ext/z", H5R_OBJECT, -1), "the name leads into another file");
    OK(H5Pclose(lcpl));

    /* inside each file: as natively */
    OK(H5DSattach_scale(xa, other, 0));
    OK(H5DSattach_scale(zb, yb, 0));
    OK(dims_attached = H5DSget_num_scales(zb, 0));
    CHECK(dims_attached == 1);

    OK(H5Sclose(s1));
    OK(H5Sclose(s2));
    OK(H5Dclose(xa));
    OK(H5Dclose(yb));
    OK(H5Dclose(other));
    OK(H5Dclose(zb));
    OK(H5Fclose(a));
    OK(H5Fclose(b));

    /* read back natively: the scales inside each file, nothing across */
    {
        hid_t fapl, na, nb, ds;
        OK(fapl = H5Pcreate(H5P_FILE_ACCESS));
        OK(H5Pset_vol(fapl, H5VL_NATIVE, NULL));
        OK(na = H5Fopen(scratch("a.h5"), H5F_ACC_RDONLY, fapl));
        OK(nb = H5Fopen(scratch("b.h5"), H5F_ACC_RDONLY, fapl));
        OK(ds = H5Dopen2(na, "x", H5P_DEFAULT));
        CHECK(H5DSget_num_scales(ds, 0) == 1);
        OK(H5Dclose(ds));
        OK(ds = H5Dopen2(nb, "z", H5P_DEFAULT));
        CHECK(H5DSget_num_scales(ds, 0) == 1);
        OK(H5Dclose(ds));
        OK(H5Fclose(na));
        OK(H5Fclose(nb));
        OK(H5Pclose(fapl));
    }
    printf("split_xref: ok\n");
    return 0;
}
