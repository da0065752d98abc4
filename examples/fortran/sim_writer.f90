! A small simulation written with the HDF5 Fortran API, unchanged whether or not dset_split is
! loaded: one group per time step with a 2-D field and an attribute, and a time series extended at
! every step. It reads everything back and checks it.
!
!   h5fc -o sim_writer sim_writer.f90 && ./sim_writer run.h5
program sim_writer
  use hdf5
  implicit none
  integer, parameter :: nx = 16, ny = 12, nsteps = 3
  character(len=256) :: path
  character(len=16) :: gname
  integer(hid_t) :: file, group, space, dset, aspace, attr, series, sspace, mspace, dcpl
  integer(hsize_t) :: dims(2), adims(1), sdims(1), smax(1), chunk(1), offset(1), count(1)
  real(8) :: field(nx, ny), back(nx, ny), energy(1), t(1), series_back(nsteps)
  integer :: err, step, i, j

  call get_command_argument(1, path)
  if (len_trim(path) == 0) stop "usage: sim_writer OUT.h5"
  call h5open_f(err)
  call h5fcreate_f(trim(path), H5F_ACC_TRUNC_F, file, err)
  call check(err, "create file")

  sdims = 0
  smax = H5S_UNLIMITED_F
  chunk = 8
  call h5screate_simple_f(1, sdims, sspace, err, smax)
  call h5pcreate_f(H5P_DATASET_CREATE_F, dcpl, err)
  call h5pset_chunk_f(dcpl, 1, chunk, err)
  call h5dcreate_f(file, "energy", H5T_NATIVE_DOUBLE, sspace, series, err, dcpl)
  call check(err, "create series")

  dims = (/ int(nx, hsize_t), int(ny, hsize_t) /)
  do step = 1, nsteps
    do j = 1, ny
      do i = 1, nx
        field(i, j) = sin(0.1d0 * i + step) * cos(0.2d0 * j)
      end do
    end do
    write (gname, '(a,i4.4)') "step", step
    call h5gcreate_f(file, trim(gname), group, err)
    call h5screate_simple_f(2, dims, space, err)
    call h5dcreate_f(group, "temperature", H5T_NATIVE_DOUBLE, space, dset, err)
    call check(err, "create field")
    call h5dwrite_f(dset, H5T_NATIVE_DOUBLE, field, dims, err)
    call check(err, "write field")
    adims = 1
    t(1) = 0.5d0 * step
    call h5screate_simple_f(1, adims, aspace, err)
    call h5acreate_f(dset, "time", H5T_NATIVE_DOUBLE, aspace, attr, err)
    call h5awrite_f(attr, H5T_NATIVE_DOUBLE, t, adims, err)
    call h5aclose_f(attr, err)
    call h5sclose_f(aspace, err)
    call h5dclose_f(dset, err)
    call h5sclose_f(space, err)
    call h5gclose_f(group, err)

    ! append one value to the series
    energy(1) = sum(field * field)
    sdims = step
    call h5dset_extent_f(series, sdims, err)
    call check(err, "extend series")
    call h5dget_space_f(series, sspace, err)
    offset = step - 1
    count = 1
    call h5sselect_hyperslab_f(sspace, H5S_SELECT_SET_F, offset, count, err)
    call h5screate_simple_f(1, count, mspace, err)
    call h5dwrite_f(series, H5T_NATIVE_DOUBLE, energy, count, err, mspace, sspace)
    call check(err, "append")
    call h5sclose_f(mspace, err)
    call h5sclose_f(sspace, err)
  end do
  call h5dclose_f(series, err)
  call h5pclose_f(dcpl, err)
  call h5fclose_f(file, err)

  ! read back
  call h5fopen_f(trim(path), H5F_ACC_RDONLY_F, file, err)
  call check(err, "reopen")
  call h5dopen_f(file, "step0002/temperature", dset, err)
  call check(err, "open field")
  call h5dread_f(dset, H5T_NATIVE_DOUBLE, back, dims, err)
  call h5dclose_f(dset, err)
  do j = 1, ny
    do i = 1, nx
      if (abs(back(i, j) - sin(0.1d0 * i + 2) * cos(0.2d0 * j)) > 1d-12) stop "field read back wrong"
    end do
  end do
  call h5dopen_f(file, "energy", series, err)
  sdims = nsteps
  call h5dread_f(series, H5T_NATIVE_DOUBLE, series_back, sdims, err)
  call check(err, "read series")
  call h5dclose_f(series, err)
  call h5fclose_f(file, err)
  call h5close_f(err)
  print '(a,i0,a)', "sim_writer: wrote and checked ", nsteps, " steps"

contains
  subroutine check(status, what)
    integer, intent(in) :: status
    character(len=*), intent(in) :: what
    if (status < 0) then
      print *, "sim_writer: failed to ", what
      stop 1
    end if
  end subroutine check
end program sim_writer
