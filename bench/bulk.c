/*
 * Bulk I/O: writes N datasets of M MiB (doubles, chunks of 1 MiB, extendible along the first
 * dimension as simulation output usually is) into one file, then reopens it and reads every
 * dataset whole. Prints seconds for the write (create + write + close, with H5Fflush before the
 * close so the data reaches the page cache) and the read (open + read + close). With "read" as
 * the fourth argument, only reads an existing file (to time plain readers of a split layout).
 * scripts/bench.sh runs it natively and through dset_split in both forms.
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_NAME "bulk"
#include "timing.h"

int main(int argc, char **argv) {
    hid_t   file, space, dcpl, dset;
    hsize_t rows, cols, dims[2], max[2], chunk[2];
    char    name[64];
    double *buf, t0, t_write = 0, t_read, sum = 0;
    int     n, mib, read_only;

    if (argc < 4) {
        fprintf(stderr, "usage: %s FILE N MIB [read]\n", argv[0]);
        return 2;
    }
    n         = atoi(argv[2]);
    mib       = atoi(argv[3]);
    read_only = argc > 4 && strcmp(argv[4], "read") == 0;
    cols      = 1024;                                      /* 8 KiB per row */
    rows      = (hsize_t)mib * 1024 * 1024 / (cols * 8);   /* M MiB per dataset */
    buf       = malloc(rows * cols * sizeof *buf);
    if (!buf)
        return 1;
    for (hsize_t i = 0; i < rows * cols; i++)
        buf[i] = (double)(i % 1000);

    if (!read_only) {
        t0      = now();
        dims[0] = rows, dims[1] = cols, max[0] = H5S_UNLIMITED, max[1] = cols;
        chunk[0] = 128, chunk[1] = cols; /* 1 MiB */
        TRY(file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
        TRY(space = H5Screate_simple(2, dims, max));
        TRY(dcpl = H5Pcreate(H5P_DATASET_CREATE));
        TRY(H5Pset_chunk(dcpl, 2, chunk));
        for (int i = 0; i < n; i++) {
            snprintf(name, sizeof name, "field%03d", i);
            TRY(dset = H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
            TRY(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
            TRY(H5Dclose(dset));
        }
        TRY(H5Pclose(dcpl));
        TRY(H5Sclose(space));
        TRY(H5Fflush(file, H5F_SCOPE_GLOBAL));
        TRY(H5Fclose(file));
        t_write = now() - t0;
    }

    memset(buf, 0, rows * cols * sizeof *buf);
    t0 = now();
    TRY(file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT));
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "field%03d", i);
        TRY(dset = H5Dopen2(file, name, H5P_DEFAULT));
        TRY(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        sum += buf[rows * cols - 1];
        TRY(H5Dclose(dset));
    }
    TRY(H5Fclose(file));
    t_read = now() - t0;
    if (sum != (double)n * (double)((rows * cols - 1) % 1000)) {
        fprintf(stderr, "bulk: wrong data read back\n");
        return 1;
    }
    printf("%.6f %.6f\n", t_write, t_read);
    free(buf);
    return 0;
}
