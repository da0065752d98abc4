/*
 * An HDF5 older than 1.14 loading the plugin (c-tests/fake_hdf5.c stands in for one): the plugin
 * binds at run time to the library that asks for its class, finds it too old, gives it no class
 * and says why on that library's error stack, naming its version. No libhdf5 is linked here.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    void *fake;
    const void *(*load)(const char *);
    const char *err;
    const void *cls;

    if (argc != 3) {
        fprintf(stderr, "usage: %s FAKE_HDF5_LIB PLUGIN\n", argv[0]);
        return 2;
    }
    fake = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!fake) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }
    load = (const void *(*)(const char *))dlsym(fake, "fake_load_plugin");
    err  = (const char *)dlsym(fake, "fake_last_error");
    if (!load || !err)
        return 1;
    cls = load(argv[2]);
    printf("class %p, error stack: %s\n", cls, err);
    if (cls != NULL) {
        fprintf(stderr, "the plugin served an HDF5 1.12 (class %p)\n", cls);
        return 1;
    }
    if (!strstr(err, "HDF5 1.12.2") || !strstr(err, "dset_split needs HDF5 1.14 or 2.x")) {
        fprintf(stderr, "no clear message on the library's error stack: '%s'\n", err);
        return 1;
    }
    return 0;
}
