/* Minimal assertion helpers for the C tests: print where and what failed, then exit non-zero. */
#ifndef DSET_SPLIT_CHECK_H
#define DSET_SPLIT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The scratch directory a test program was given (its first argument), and paths inside it: each
 * call returns one of four rotating buffers, so up to four can be used in one expression. */
static char scratch_dir[1024];

/* Takes the scratch directory from the program's one argument, or exits with its usage. */
static inline void scratch_from_args(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        exit(2);
    }
    snprintf(scratch_dir, sizeof scratch_dir, "%s", argv[1]);
}

static inline const char *scratch(const char *rel) {
    static char buf[4][1300];
    static int  i = 0;
    i             = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", scratch_dir, rel);
    return buf[i];
}

/* Whether a message of the "dset_split" error class containing `needle` is on the default error
 * stack (turn automatic printing off first: H5E_BEGIN_TRY/END_TRY resets the stack). The stack is
 * left as it was. */
typedef struct {
    const char *needle;
    int         found;
} check_search_t;

static inline herr_t check_find_msg(unsigned n, const H5E_error2_t *err, void *data) {
    check_search_t *s = (check_search_t *)data;
    char            cls[64];
    (void)n;
    /* read the entry before calling H5Eget_class_name: any API call resets the default stack */
    if (err->desc && strstr(err->desc, s->needle) && H5Eget_class_name(err->cls_id, cls, sizeof cls) > 0 &&
        strcmp(cls, "dset_split") == 0)
        s->found = 1;
    return 0;
}

static inline int stack_has(const char *needle) {
    check_search_t s = {needle, 0};
    /* walk a copy: H5Eget_class_name in the callback would reset the default stack; the copy is
     * put back afterwards, so the stack can be searched again */
    hid_t copy = H5Eget_current_stack();
    H5Ewalk2(copy, H5E_WALK_UPWARD, check_find_msg, &s);
    H5Eset_current_stack(copy);
    return s.found;
}

/* Whether the innermost entry of the default error stack (the one HDF5 reports as the cause, and
 * the only one h5py shows) is a "dset_split" message containing `needle`. */
static inline herr_t check_innermost(unsigned n, const H5E_error2_t *err, void *data) {
    check_search_t *s = (check_search_t *)data;
    char            cls[64];
    if (n == 0 && err->desc && strstr(err->desc, s->needle) &&
        H5Eget_class_name(err->cls_id, cls, sizeof cls) > 0 && strcmp(cls, "dset_split") == 0)
        s->found = 1;
    return 1; /* the first entry walked upward is the innermost: stop there */
}

static inline int innermost_has(const char *needle) {
    check_search_t s = {needle, 0};
    hid_t          copy = H5Eget_current_stack(); /* as in stack_has */
    H5Ewalk2(copy, H5E_WALK_UPWARD, check_innermost, &s);
    H5Eset_current_stack(copy);
    return s.found;
}

/* Whether creating a one-element dataset `name` at `loc` fails (quietly), as it must in a file
 * opened read-only. */
static inline int create_fails(hid_t loc, const char *name) {
    int     failed;
    hsize_t one = 1;
    hid_t   s   = H5Screate_simple(1, &one, NULL);
    H5E_BEGIN_TRY {
        hid_t d = H5Dcreate2(loc, name, H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        failed  = d < 0;
        if (!failed)
            H5Dclose(d);
    }
    H5E_END_TRY
    H5Sclose(s);
    return failed;
}

#endif
