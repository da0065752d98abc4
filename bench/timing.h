/* What the benchmark programs share: a monotonic clock in seconds, and TRY for HDF5 calls that
 * must succeed (a failure prints the call, prefixed with BENCH_NAME, and returns 1 from main). */
#ifndef DSET_SPLIT_BENCH_TIMING_H
#define DSET_SPLIT_BENCH_TIMING_H

#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define TRY(expr)                                                                                   \
    do {                                                                                            \
        if ((expr) < 0) {                                                                           \
            fprintf(stderr, "%s: %s failed\n", BENCH_NAME, #expr);                                 \
            return 1;                                                                               \
        }                                                                                           \
    } while (0)

#endif
