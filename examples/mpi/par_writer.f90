! A parallel Fortran writer (issue 13): every rank writes its columns of two 2-D fields,
! collectively, into a group per output time, with attributes; then every rank reads its columns
! back and checks them. Plain parallel HDF5 (HDF5_VOL_CONNECTOR selects dset_split or not).
!
!   mpirun -np 4 par_writer fields.h5
program par_writer
  use hdf5
  use mpi
  implicit none
  integer, parameter :: nx = 64, per_rank = 16, ntimes = 2
  character(len=256) :: path
  character(len=16) :: gname
  character(len=3), dimension(2) :: fields = (/ 'rho', 'T  ' /)
  integer :: rank, nprocs, ierr, err, t, f, i, j, bad, all_bad
  integer(hid_t) :: fapl, file, group, space, mspace, dset, dxpl, aspace, attr
  integer(hsize_t), dimension(2) :: dims, count, offset
  integer(hsize_t), dimension(1) :: adims = (/ 1 /)
  double precision, allocatable :: buf(:, :), back(:, :)

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, nprocs, ierr)
  call get_command_argument(1, path)
  call h5open_f(err)
  dims = (/ int(nx, hsize_t), int(per_rank * nprocs, hsize_t) /)
  count = (/ int(nx, hsize_t), int(per_rank, hsize_t) /)
  offset = (/ 0_hsize_t, int(per_rank * rank, hsize_t) /)
  allocate(buf(nx, per_rank), back(nx, per_rank))

  call h5pcreate_f(H5P_FILE_ACCESS_F, fapl, err)
  call h5pset_fapl_mpio_f(fapl, MPI_COMM_WORLD, MPI_INFO_NULL, err)
  call h5fcreate_f(trim(path), H5F_ACC_TRUNC_F, file, err, access_prp=fapl)
  call check(err, 'h5fcreate_f')
  call h5pcreate_f(H5P_DATASET_XFER_F, dxpl, err)
  call h5pset_dxpl_mpio_f(dxpl, H5FD_MPIO_COLLECTIVE_F, err)

  do t = 1, ntimes
    write(gname, '(a,i0)') 'time', t
    call h5gcreate_f(file, trim(gname), group, err)
    call check(err, 'h5gcreate_f')
    call h5screate_simple_f(1, adims, aspace, err)
    call h5acreate_f(group, 'time', H5T_NATIVE_INTEGER, aspace, attr, err)
    call h5awrite_f(attr, H5T_NATIVE_INTEGER, t, adims, err)
    call check(err, 'h5awrite_f')
    call h5aclose_f(attr, err)
    call h5sclose_f(aspace, err)
    do f = 1, 2
      call h5screate_simple_f(2, dims, space, err)
      call h5dcreate_f(group, trim(fields(f)), H5T_NATIVE_DOUBLE, space, dset, err)
      call check(err, 'h5dcreate_f')
      call h5sselect_hyperslab_f(space, H5S_SELECT_SET_F, offset, count, err)
      call h5screate_simple_f(2, count, mspace, err)
      do j = 1, per_rank
        do i = 1, nx
          buf(i, j) = value(t, f, i, per_rank * rank + j)
        end do
      end do
      call h5dwrite_f(dset, H5T_NATIVE_DOUBLE, buf, count, err, mspace, space, dxpl)
      call check(err, 'h5dwrite_f')
      call h5sclose_f(mspace, err)
      call h5sclose_f(space, err)
      call h5dclose_f(dset, err)
    end do
    call h5gclose_f(group, err)
  end do
  call h5fclose_f(file, err)
  call check(err, 'h5fclose_f')

  ! Read back: every rank its own columns.
  bad = 0
  call h5fopen_f(trim(path), H5F_ACC_RDONLY_F, file, err, access_prp=fapl)
  call check(err, 'h5fopen_f')
  do t = 1, ntimes
    write(gname, '(a,i0)') 'time', t
    do f = 1, 2
      call h5dopen_f(file, trim(gname)//'/'//trim(fields(f)), dset, err)
      call check(err, 'h5dopen_f')
      call h5dget_space_f(dset, space, err)
      call h5sselect_hyperslab_f(space, H5S_SELECT_SET_F, offset, count, err)
      call h5screate_simple_f(2, count, mspace, err)
      back = -1
      call h5dread_f(dset, H5T_NATIVE_DOUBLE, back, count, err, mspace, space, dxpl)
      call check(err, 'h5dread_f')
      do j = 1, per_rank
        do i = 1, nx
          if (back(i, j) /= value(t, f, i, per_rank * rank + j)) bad = bad + 1
        end do
      end do
      call h5sclose_f(mspace, err)
      call h5sclose_f(space, err)
      call h5dclose_f(dset, err)
    end do
  end do
  call h5fclose_f(file, err)
  call h5pclose_f(dxpl, err)
  call h5pclose_f(fapl, err)
  call h5close_f(err)
  call MPI_Allreduce(bad, all_bad, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (rank == 0) then
    if (all_bad == 0) then
      print '(a,i0,a)', 'par_writer: ', nprocs, ' ranks, ok'
    else
      print '(a,i0,a)', 'par_writer: ', all_bad, ' values differ'
    end if
  end if
  call MPI_Finalize(ierr)
  if (all_bad /= 0) stop 1

contains

  double precision function value(t, f, i, j)
    integer, intent(in) :: t, f, i, j
    value = t * 1000.0d0 + f * 100.0d0 + i + j * 0.001d0
  end function value

  subroutine check(code, what)
    integer, intent(in) :: code
    character(len=*), intent(in) :: what
    integer :: e
    if (code < 0) then
      print '(a,i0,a,a)', 'rank ', rank, ': failed: ', what
      call MPI_Abort(MPI_COMM_WORLD, 1, e)
    end if
  end subroutine check

end program par_writer
