/* A VPIC-style parallel HDF5 writer and reader (issue 13): every rank writes its slice of the
 * particle datasets of each time step, collectively; one dataset per step is written
 * independently; an extendible dataset grows by every rank's share at each step; groups and
 * datasets carry attributes. The reader checks every value and attribute.
 *
 *   mpirun -np 4 vpic write run.h5 [STEPS [PER_RANK]]
 *   mpirun -np 4 vpic read  run.h5 [STEPS [PER_RANK]]
 *   VPIC_SERIAL=1 vpic write run.h5   # one process with HDF5's default (serial) file driver
 *
 * Plain parallel HDF5: it knows nothing of dset_split (HDF5_VOL_CONNECTOR selects it or not).
 * Exits 0 when everything was written or read back as expected; else prints why and exits 1.
 * An HDF5 call that fails ends the program on every rank alike (MPI_Finalize, exit 1): a
 * collective call fails on every rank (dset_split makes its own errors every rank's), and each
 * rank says why.
 */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NVARS 6
static const char *VARS[NVARS] = {"x", "y", "z", "px", "py", "pz"};
#define HISTORY_PER_RANK 16

static int rank, nprocs;

static void fail(const char *what, int step) {
    fprintf(stderr, "rank %d: %s (step %d)\n", rank, what, step);
    H5Eprint2(H5E_DEFAULT, stderr);
    fflush(stderr);
    MPI_Finalize();
    exit(1);
}
#define CHECK(call, step)                                                                          \
    do {                                                                                           \
        if ((call) < 0) fail(#call, step);                                                         \
    } while (0)

/* The value of variable v of particle i (global index) at step s. */
static float value(int s, int v, long long i) { return (float)(s * 1000003LL + v * 7919LL + i % 100003) * 0.5f; }

static void attr_int(hid_t obj, const char *name, int v, int step) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) fail("H5Acreate2", step);
    CHECK(H5Awrite(a, H5T_NATIVE_INT, &v), step);
    H5Aclose(a);
    H5Sclose(space);
}

static int read_attr_int(hid_t obj, const char *name, int step) {
    int v = -1;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) fail("H5Aopen", step);
    CHECK(H5Aread(a, H5T_NATIVE_INT, &v), step);
    H5Aclose(a);
    return v;
}

/* This rank's slice [start, start + n) of a 1-D dataset of nprocs * n elements. */
static hid_t slice(hid_t dset, hsize_t start, hsize_t n, int step) {
    hid_t fspace = H5Dget_space(dset);
    if (fspace < 0) fail("H5Dget_space", step);
    CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &start, NULL, &n, NULL), step);
    return fspace;
}

static int run(int writing, const char *path, int steps, hsize_t per_rank) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (!getenv("VPIC_SERIAL")) {
        CHECK(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL), -1);
        CHECK(H5Pset_all_coll_metadata_ops(fapl, 1), -1);
        CHECK(H5Pset_coll_metadata_write(fapl, 1), -1);
    } else if (nprocs != 1) {
        fail("VPIC_SERIAL runs on one process", -1);
    }
    hid_t file = writing ? H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : H5Fopen(path, H5F_ACC_RDONLY, fapl);
    if (file < 0) fail(writing ? "H5Fcreate" : "H5Fopen", -1);
    hid_t coll = H5Pcreate(H5P_DATASET_XFER), indep = H5Pcreate(H5P_DATASET_XFER);
    if (!getenv("VPIC_SERIAL")) {
        CHECK(H5Pset_dxpl_mpio(coll, H5FD_MPIO_COLLECTIVE), -1);
        CHECK(H5Pset_dxpl_mpio(indep, H5FD_MPIO_INDEPENDENT), -1);
    }
    hsize_t total = per_rank * (hsize_t)nprocs, start = per_rank * (hsize_t)rank;
    float *buf = malloc(per_rank * sizeof(float));
    long long *ids = malloc(per_rank * sizeof(long long));
    int bad = 0;

    /* The extendible history: HISTORY_PER_RANK values per rank and step, chunked. */
    hid_t hist;
    if (writing) {
        hsize_t zero = 0, unlimited = H5S_UNLIMITED, chunk = HISTORY_PER_RANK;
        hid_t space = H5Screate_simple(1, &zero, &unlimited), dcpl = H5Pcreate(H5P_DATASET_CREATE);
        CHECK(H5Pset_chunk(dcpl, 1, &chunk), -1);
        hist = H5Dcreate2(file, "history", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        H5Pclose(dcpl);
        H5Sclose(space);
    } else {
        hist = H5Dopen2(file, "history", H5P_DEFAULT);
    }
    if (hist < 0) fail("history", -1);

    for (int s = 0; s < steps; s++) {
        char name[64];
        snprintf(name, sizeof name, "Step#%d", s);
        hid_t g = writing ? H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
                          : H5Gopen2(file, name, H5P_DEFAULT);
        if (g < 0) fail("step group", s);
        if (writing) {
            attr_int(g, "step", s, s);
            attr_int(g, "nprocs", nprocs, s);
        } else if (read_attr_int(g, "step", s) != s || read_attr_int(g, "nprocs", s) != nprocs) {
            fprintf(stderr, "rank %d: attributes of %s differ\n", rank, name);
            bad++;
        }
        hid_t mspace = H5Screate_simple(1, &per_rank, NULL);
        for (int v = 0; v < NVARS; v++) {
            hid_t d;
            if (writing) {
                hid_t space = H5Screate_simple(1, &total, NULL);
                d = H5Dcreate2(g, VARS[v], H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
                H5Sclose(space);
                if (d < 0) fail("H5Dcreate2", s);
                attr_int(d, "var", v, s);
            } else {
                d = H5Dopen2(g, VARS[v], H5P_DEFAULT);
                if (d < 0) fail("H5Dopen2", s);
                if (read_attr_int(d, "var", s) != v) bad++;
            }
            hid_t fspace = slice(d, start, per_rank, s);
            if (writing) {
                for (hsize_t i = 0; i < per_rank; i++) buf[i] = value(s, v, (long long)(start + i));
                CHECK(H5Dwrite(d, H5T_NATIVE_FLOAT, mspace, fspace, coll, buf), s);
            } else {
                memset(buf, 0, per_rank * sizeof(float));
                CHECK(H5Dread(d, H5T_NATIVE_FLOAT, mspace, fspace, coll, buf), s);
                for (hsize_t i = 0; i < per_rank; i++)
                    if (buf[i] != value(s, v, (long long)(start + i))) {
                        fprintf(stderr, "rank %d: %s/%s[%llu] = %g\n", rank, name, VARS[v],
                                (unsigned long long)(start + i), buf[i]);
                        bad++;
                        break;
                    }
            }
            H5Sclose(fspace);
            H5Dclose(d);
        }
        /* Particle ids: written independently, each rank its own slice. */
        hid_t d;
        if (writing) {
            hid_t space = H5Screate_simple(1, &total, NULL);
            d = H5Dcreate2(g, "id", H5T_NATIVE_LLONG, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5Sclose(space);
        } else {
            d = H5Dopen2(g, "id", H5P_DEFAULT);
        }
        if (d < 0) fail("id", s);
        hid_t fspace = slice(d, start, per_rank, s);
        if (writing) {
            for (hsize_t i = 0; i < per_rank; i++) ids[i] = (long long)(start + i) * 31 + s;
            CHECK(H5Dwrite(d, H5T_NATIVE_LLONG, mspace, fspace, indep, ids), s);
        } else {
            CHECK(H5Dread(d, H5T_NATIVE_LLONG, mspace, fspace, indep, ids), s);
            for (hsize_t i = 0; i < per_rank; i++)
                if (ids[i] != (long long)(start + i) * 31 + s) {
                    fprintf(stderr, "rank %d: %s/id[%llu] differs\n", rank, name, (unsigned long long)(start + i));
                    bad++;
                    break;
                }
        }
        H5Sclose(fspace);
        H5Dclose(d);
        H5Sclose(mspace);
        H5Gclose(g);

        /* The history grows by HISTORY_PER_RANK values of every rank (collective set_extent). */
        hsize_t n = HISTORY_PER_RANK, at = (hsize_t)(s * nprocs + rank) * HISTORY_PER_RANK;
        double h[HISTORY_PER_RANK];
        if (writing) {
            hsize_t size = (hsize_t)(s + 1) * (hsize_t)nprocs * HISTORY_PER_RANK;
            CHECK(H5Dset_extent(hist, &size), s);
            for (int i = 0; i < HISTORY_PER_RANK; i++) h[i] = s + rank * 0.25 + i * 1e-3;
        }
        hid_t hm = H5Screate_simple(1, &n, NULL), hf = slice(hist, at, n, s);
        if (writing) {
            CHECK(H5Dwrite(hist, H5T_NATIVE_DOUBLE, hm, hf, coll, h), s);
            CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL), s);
        } else {
            CHECK(H5Dread(hist, H5T_NATIVE_DOUBLE, hm, hf, coll, h), s);
            for (int i = 0; i < HISTORY_PER_RANK; i++)
                if (h[i] != s + rank * 0.25 + i * 1e-3) {
                    fprintf(stderr, "rank %d: history[%llu] differs\n", rank, (unsigned long long)at + i);
                    bad++;
                    break;
                }
        }
        H5Sclose(hm);
        H5Sclose(hf);
    }
    if (!writing) {
        hid_t space = H5Dget_space(hist);
        hsize_t size = 0;
        H5Sget_simple_extent_dims(space, &size, NULL);
        H5Sclose(space);
        if (size != (hsize_t)steps * (hsize_t)nprocs * HISTORY_PER_RANK) {
            fprintf(stderr, "rank %d: history has %llu values\n", rank, (unsigned long long)size);
            bad++;
        }
    }
    H5Dclose(hist);
    H5Pclose(coll);
    H5Pclose(indep);
    CHECK(H5Fclose(file), -1);
    H5Pclose(fapl);
    free(buf);
    free(ids);
    return bad;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
    if (argc < 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
        if (rank == 0) fprintf(stderr, "usage: vpic write|read FILE [STEPS [PER_RANK]]\n");
        MPI_Finalize();
        return 2;
    }
    int steps = argc > 3 ? atoi(argv[3]) : 3;
    hsize_t per_rank = argc > 4 ? (hsize_t)atoll(argv[4]) : 1000;
    double t0 = MPI_Wtime();
    int bad = run(strcmp(argv[1], "write") == 0, argv[2], steps, per_rank);
    double t = MPI_Wtime() - t0, slowest;
    int all_bad;
    MPI_Reduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Allreduce(&bad, &all_bad, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("%s %s: %d ranks, %d steps, %s (%.3f s)\n", argv[1], argv[2], nprocs, steps,
                          all_bad ? "MISMATCH" : "ok", slowest);
    MPI_Finalize();
    return all_bad ? 1 : 0;
}
