/* What one file per dataset costs in parallel HDF5 itself (bench/mpi.py): every rank creates
 * N files with the MPI-IO driver, each with one small dataset, and closes it. Prints the
 * milliseconds per file (slowest rank). No dset_split involved. */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0 || H5Pset_all_coll_metadata_ops(fapl, 1) < 0 ||
        H5Pset_coll_metadata_write(fapl, 1) < 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    const int files = 100;
    hsize_t n = 2000;
    double t0 = MPI_Wtime();
    for (int i = 0; i < files; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d.h5", i);
        hid_t f = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        hid_t s = H5Screate_simple(1, &n, NULL);
        hid_t d = H5Dcreate2(f, "data", H5T_NATIVE_FLOAT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (f < 0 || d < 0) MPI_Abort(MPI_COMM_WORLD, 1);
        H5Dclose(d);
        H5Sclose(s);
        H5Fclose(f);
    }
    double t = MPI_Wtime() - t0, slowest;
    MPI_Reduce(&t, &slowest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) printf("%.3f\n", slowest / files * 1e3);
    H5Pclose(fapl);
    MPI_Finalize();
    return 0;
}
