/*
 * Reads what sim_writer.c wrote, with plain HDF5 calls, and prints a summary: one line per time
 * step (its time attribute and the sum of its field) and the energy series. The same file prints
 * the same text however its datasets are stored (natively, or split by dset_split).
 *
 *   h5cc -o sim_reader sim_reader.c && ./sim_reader run.h5
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#define TRY(expr)                                                                                   \
    do {                                                                                            \
        if ((expr) < 0) {                                                                           \
            fprintf(stderr, "sim_reader: %s failed (line %d)\n", #expr, __LINE__);                 \
            return 1;                                                                               \
        }                                                                                           \
    } while (0)

int main(int argc, char **argv) {
    hid_t    file, dset, attr, space;
    hssize_t n;
    int      steps;
    char     name[64];
    double  *buf, t, sum;

    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE.h5\n", argv[0]);
        return 2;
    }
    TRY(file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT));
    TRY(attr = H5Aopen(file, "steps", H5P_DEFAULT));
    TRY(H5Aread(attr, H5T_NATIVE_INT, &steps));
    TRY(H5Aclose(attr));
    for (int step = 0; step < steps; step++) {
        snprintf(name, sizeof name, "step%04d/temperature", step);
        TRY(dset = H5Dopen2(file, name, H5P_DEFAULT));
        TRY(space = H5Dget_space(dset));
        TRY(n = H5Sget_simple_extent_npoints(space));
        if (!(buf = malloc((size_t)n * sizeof *buf)))
            return 1;
        TRY(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        sum = 0;
        for (hssize_t i = 0; i < n; i++)
            sum += buf[i];
        free(buf);
        snprintf(name, sizeof name, "step%04d", step);
        TRY(attr = H5Aopen_by_name(file, name, "time", H5P_DEFAULT, H5P_DEFAULT));
        TRY(H5Aread(attr, H5T_NATIVE_DOUBLE, &t));
        TRY(H5Aclose(attr));
        printf("step %d: time %.3f, %lld values, sum %.9f\n", step, t, (long long)n, sum);
        TRY(H5Sclose(space));
        TRY(H5Dclose(dset));
    }
    TRY(dset = H5Dopen2(file, "energy", H5P_DEFAULT));
    TRY(space = H5Dget_space(dset));
    TRY(n = H5Sget_simple_extent_npoints(space));
    if (!(buf = malloc((size_t)n * sizeof *buf)))
        return 1;
    TRY(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
    printf("energy:");
    for (hssize_t i = 0; i < n; i++)
        printf(" %.6f", buf[i]);
    printf("\n");
    free(buf);
    TRY(H5Sclose(space));
    TRY(H5Dclose(dset));
    TRY(H5Fclose(file));
    return 0;
}
