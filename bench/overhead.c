/*
 * Measures what the connector costs an ordinary program: creates N small datasets (8 KiB each)
 * in one file, then reopens the file and reads every dataset, then deletes every dataset. Prints
 * seconds for each phase and the peak resident memory (create, read, memory, delete). scripts/bench.sh runs it natively and through dset_split.
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#define LEN 1024

#define BENCH_NAME "bench"
#include "timing.h"

int main(int argc, char **argv) {
    static double buf[LEN];
    hid_t         file, space, dset;
    hsize_t       len = LEN;
    char          name[64];
    double        t0, t_create, t_read, t_delete, sum = 0;
    int           n;
    struct rusage ru;

    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE N\n", argv[0]);
        return 2;
    }
    n = atoi(argv[2]);
    for (int i = 0; i < LEN; i++)
        buf[i] = i;

    t0 = now();
    TRY(file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    TRY(space = H5Screate_simple(1, &len, NULL));
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "d%06d", i);
        TRY(dset = H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        TRY(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        TRY(H5Dclose(dset));
    }
    TRY(H5Sclose(space));
    TRY(H5Fclose(file));
    t_create = now() - t0;

    t0 = now();
    TRY(file = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT));
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "d%06d", i);
        TRY(dset = H5Dopen2(file, name, H5P_DEFAULT));
        TRY(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
        sum += buf[LEN - 1];
        TRY(H5Dclose(dset));
    }
    TRY(H5Fclose(file));
    t_read = now() - t0;

    getrusage(RUSAGE_SELF, &ru);
    t0 = now();
    TRY(file = H5Fopen(argv[1], H5F_ACC_RDWR, H5P_DEFAULT));
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "d%06d", i);
        TRY(H5Ldelete(file, name, H5P_DEFAULT));
    }
    TRY(H5Fclose(file));
    t_delete = now() - t0;
    if (sum != (double)n * (LEN - 1)) {
        fprintf(stderr, "bench: wrong data read back\n");
        return 1;
    }
    printf("%.6f %.6f %ld %.6f\n", t_create, t_read, ru.ru_maxrss, t_delete);
    return 0;
}
