/*
 * A stand-in for an HDF5 older than 1.14 (it says it is 1.12.2), for c-tests/old_hdf5.c: it
 * loads the dset_split plugin as HDF5 does and asks for its class, so the call comes from this
 * library, and it records what the plugin puts on its error stack.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

typedef long long fake_hid_t;

fake_hid_t H5E_ERR_CLS_g = 11, H5E_PLUGIN_g = 12, H5E_CANTLOAD_g = 13;
char       fake_last_error[2048];

int H5get_libversion(unsigned *major, unsigned *minor, unsigned *release) {
    *major = 1, *minor = 12, *release = 2;
    return 0;
}

fake_hid_t H5VLregister_connector(const void *cls, fake_hid_t vipl) {
    (void)cls, (void)vipl;
    return -1;
}

int H5Epush2(fake_hid_t stack, const char *file, const char *func, unsigned line, fake_hid_t cls,
             fake_hid_t major, fake_hid_t minor, const char *fmt, ...) {
    va_list ap;
    (void)stack, (void)file, (void)func, (void)line;
    va_start(ap, fmt);
    vsnprintf(fake_last_error, sizeof fake_last_error, fmt, ap);
    va_end(ap);
    if (cls != 11 || major != 12 || minor != 13)
        fake_last_error[0] = '!'; /* pushed with the wrong class or messages */
    return 0;
}

/* What HDF5's plugin loader does: dlopen, then H5PLget_plugin_info() from here. */
const void *fake_load_plugin(const char *path) {
    void *volatile h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const void *(*info)(void);
    const void *volatile cls;
    if (!h)
        return (const void *)1;
    info = (const void *(*)(void))dlsym(h, "H5PLget_plugin_info");
    if (!info)
        return (const void *)2;
    cls = info(); /* a real call (not a tail jump): the return address is in this library */
    return cls;
}
