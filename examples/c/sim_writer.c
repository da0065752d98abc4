/*
 * A small "simulation" that writes its results with plain HDF5 calls and knows nothing about
 * dset_split: one group per time step, a chunked, compressed, extendible field per step, a
 * growing time series appended to at every step, and attributes.
 *
 *   h5cc -o sim_writer sim_writer.c
 *   ./sim_writer run.h5                         # native HDF5
 *   HDF5_PLUGIN_PATH=<dir> HDF5_VOL_CONNECTOR="dset_split under_vol=0;under_info={}" ./sim_writer run.h5
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define NX 64
#define NY 64
#define STEPS 4

#define TRY(expr)                                                                                   \
    do {                                                                                            \
        if ((expr) < 0) {                                                                           \
            fprintf(stderr, "sim_writer: %s failed (line %d)\n", #expr, __LINE__);                 \
            return 1;                                                                               \
        }                                                                                           \
    } while (0)

int main(int argc, char **argv) {
    static double field[NX][NY];
    hid_t         file, dcpl, space, dset, group, attr, scalar, series, series_space;
    hsize_t       dims[2] = {NX, NY}, chunk[2] = {16, 16};
    hsize_t       one = 1, unlimited = H5S_UNLIMITED, series_chunk = 64;
    char          name[64];

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT.h5\n", argv[0]);
        return 2;
    }
    TRY(file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
    TRY(scalar = H5Screate(H5S_SCALAR));
    TRY(attr = H5Acreate2(file, "steps", H5T_NATIVE_INT, scalar, H5P_DEFAULT, H5P_DEFAULT));
    {
        int steps = STEPS;
        TRY(H5Awrite(attr, H5T_NATIVE_INT, &steps));
    }
    TRY(H5Aclose(attr));

    TRY(dcpl = H5Pcreate(H5P_DATASET_CREATE));
    TRY(H5Pset_chunk(dcpl, 2, chunk));
    TRY(H5Pset_shuffle(dcpl));
    TRY(H5Pset_deflate(dcpl, 4));
    TRY(space = H5Screate_simple(2, dims, NULL));

    /* the energy time series grows by one value per step */
    TRY(series_space = H5Screate_simple(1, &one, &unlimited));
    {
        hid_t p;
        TRY(p = H5Pcreate(H5P_DATASET_CREATE));
        TRY(H5Pset_chunk(p, 1, &series_chunk));
        TRY(series = H5Dcreate2(file, "energy", H5T_NATIVE_DOUBLE, series_space, H5P_DEFAULT, p, H5P_DEFAULT));
        TRY(H5Pclose(p));
    }

    for (int step = 0; step < STEPS; step++) {
        double energy = 0, t = 0.25 * step;
        for (int i = 0; i < NX; i++)
            for (int j = 0; j < NY; j++) {
                field[i][j] = sin(0.1 * i + t) * cos(0.1 * j - t);
                energy += field[i][j] * field[i][j];
            }
        snprintf(name, sizeof name, "step%04d", step);
        TRY(group = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
        TRY(attr = H5Acreate2(group, "time", H5T_NATIVE_DOUBLE, scalar, H5P_DEFAULT, H5P_DEFAULT));
        TRY(H5Awrite(attr, H5T_NATIVE_DOUBLE, &t));
        TRY(H5Aclose(attr));
        TRY(dset = H5Dcreate2(group, "temperature", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT));
        TRY(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, field));
        TRY(H5Dclose(dset));
        TRY(H5Gclose(group));

        /* append to the time series */
        {
            hsize_t size = (hsize_t)step + 1, start = (hsize_t)step;
            hid_t   fs, ms;
            TRY(H5Dset_extent(series, &size));
            TRY(fs = H5Dget_space(series));
            TRY(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &one, NULL));
            TRY(ms = H5Screate_simple(1, &one, NULL));
            TRY(H5Dwrite(series, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, &energy));
            TRY(H5Sclose(ms));
            TRY(H5Sclose(fs));
        }
    }
    TRY(H5Dclose(series));
    TRY(H5Sclose(series_space));
    TRY(H5Sclose(space));
    TRY(H5Sclose(scalar));
    TRY(H5Pclose(dcpl));
    TRY(H5Fclose(file));
    printf("sim_writer: wrote %d steps to %s\n", STEPS, argv[1]);
    return 0;
}
