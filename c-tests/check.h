/* Minimal assertion helpers for the C tests: print where and what failed, then exit non-zero. */
#ifndef DSET_SPLIT_CHECK_H
#define DSET_SPLIT_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(expr)                                                                                 \
    do {                                                                                            \
        if (!(expr)) {                                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);                \
            H5Eprint2(H5E_DEFAULT, stderr);                                                         \
            exit(1);                                                                                \
        }                                                                                           \
    } while (0)

/* An HDF5 call that must succeed (non-negative). */
#define OK(expr) CHECK((expr) >= 0)

#endif
