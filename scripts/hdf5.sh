#!/usr/bin/env bash
# Build the HDF5 libraries dset-split is developed and tested against, into a cache outside the
# checkout. Debian 12 (bookworm) only ships HDF5 1.10, which has no usable VOL API.
#
# Usage: bash scripts/hdf5.sh <command> [series]
#   deps   [series]  install the build prerequisites (apt; for 2.2 also a private PyPI CMake >= 3.26)
#   build  [series]  build HDF5, or reuse the cached build; the LAST line of stdout is the prefix
#                    (progress goes to stderr, the full build output to a log file in the cache)
#   prefix [series]  print the prefix of an existing build (exit 1 if there is none)
#   env    [series]  print `export` lines for an existing build: eval "$(bash scripts/hdf5.sh env)"
#                    (HDF5_DIR, PATH, LD_LIBRARY_PATH, PKG_CONFIG_PATH; for 1.14 also HDF5_API_TEST)
#   api-test [series] [category]
#                    run HDF5's VOL API test program (1.14 only) in a fresh scratch directory;
#                    category: file group dataset datatype attribute link object misc (default all).
#                    HDF5_VOL_CONNECTOR / HDF5_PLUGIN_PATH select the connector under test.
#   --help           this text
#
# series: 1.14  Debian's hdf5 source package (1.14.6 from sid/forky, else 1.14.5 from trixie):
#               C, HL, Fortran, tools, h5cc/h5fc, h5_api_test
#         2.2   the HDF5 2.2.0 sources carried by the Rust crate hdf5-metno-src 0.10.4: C and HL
#         1.14-mpi, 2.2-mpi  the same sources built as parallel HDF5 (HDF5_ENABLE_PARALLEL, compiled
#               with Debian's Open MPI, installed when missing): 1.14-mpi C, HL, Fortran, h5pcc and
#               h5pfc; 2.2-mpi C and HL. Each under its own cache key.
#         default: $DSET_SPLIT_HDF5, else 1.14
#
# Environment:
#   DSET_SPLIT_CACHE           cache root (default: $HOME/.cache/dset-split); prefixes are
#                              $DSET_SPLIT_CACHE/hdf5/<version>-<hash of the build recipe>
#   DSET_SPLIT_HDF5            default series
#   DSET_SPLIT_HDF5_JOBS       parallel build jobs (default: nproc)
#   DSET_SPLIT_HDF5_CMAKE_ARGS extra CMake arguments, whitespace separated (part of the cache key)
#   DSET_SPLIT_HDF5_DEBIAN_VERSION  a specific Debian source version for 1.14 (e.g. 1.14.5+repack-3)
#   DSET_SPLIT_DEBIAN_MIRROR   Debian archive URI for the sources (default: the main Debian archive
#                              of the machine's own apt configuration)
#
# Only `deps` (which `build` runs first) changes the machine: apt-get update/install, and only
# when a package is missing (never libhdf5-dev). Debian sources are
# fetched with a private apt configuration under the cache directory (the machine's /etc/apt and
# /var/lib/apt/lists are left alone); apt verifies them against the Debian archive keyring.
set -euo pipefail
shopt -s inherit_errexit # also stop on errors inside $(...)

# Bump when the build steps change in a way that should produce a new prefix.
readonly RECIPE_VERSION=1
readonly ME="hdf5.sh"

readonly CRATE_NAME="hdf5-metno-src"
readonly CRATE_VERSION="0.10.4"
readonly PYPI_CMAKE_SPEC="cmake>=3.26,<4.1"
readonly CMAKE_MIN_22="3.26"
# Debian suites searched for the hdf5 source package; the newest 1.14.x found wins.
readonly DEBIAN_SOURCE_SUITES="sid forky trixie"
readonly DEBIAN_KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"
readonly STAMP_NAME=".dset-split-hdf5.stamp"

# Never install libhdf5-dev: Debian 12's HDF5 1.10 would be picked up by the Rust build.
readonly APT_PACKAGES=(
    build-essential cmake gfortran make zlib1g-dev pkg-config dpkg-dev xz-utils
    ca-certificates debian-archive-keyring gpgv python3 python3-venv
)
# For the parallel builds (1.14-mpi, 2.2-mpi): Open MPI with its compiler wrappers and mpirun.
readonly APT_PACKAGES_MPI=(libopenmpi-dev openmpi-bin)

CACHE_ROOT=${DSET_SPLIT_CACHE:-${HOME:?HOME is not set}/.cache/dset-split}
HDF5_CACHE=$CACHE_ROOT/hdf5
JOBS=${DSET_SPLIT_HDF5_JOBS:-$(nproc 2>/dev/null || echo 2)}

# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
log() { printf '[%s] %s\n' "$ME" "$*" >&2; }
die() {
    printf '[%s] error: %s\n' "$ME" "$*" >&2
    exit 1
}

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

# Seconds since the epoch, for progress timings.
now() { date +%s; }

# Print the tail of the current log and die.
LOG=""
fail_with_log() {
    local what=$1
    if [[ -n $LOG && -f $LOG ]]; then
        printf '[%s] ---- last 60 lines of %s ----\n' "$ME" "$LOG" >&2
        tail -n 60 "$LOG" >&2 || true
        printf '[%s] ---- end of log ----\n' "$ME" >&2
    fi
    die "$what failed (full log: ${LOG:-none})"
}

# run_logged <description> <command...>: run with output appended to $LOG.
run_logged() {
    local what=$1
    shift
    {
        printf '\n==== %s\n==== $' "$what"
        printf ' %q' "$@"
        printf '\n'
    } >>"$LOG"
    "$@" >>"$LOG" 2>&1 </dev/null || fail_with_log "$what"
}

# step <description> <command...>: run_logged with a progress line and a timing.
step() {
    local what=$1 t0
    t0=$(now)
    log "  $what ..."
    run_logged "$@"
    log "  $what done ($(($(now) - t0)) s)"
}

series_arg() {
    local s=${1:-${DSET_SPLIT_HDF5:-1.14}}
    case $s in
    1.14 | 2.2 | 1.14-mpi | 2.2-mpi) printf '%s\n' "$s" ;;
    *) die "unknown HDF5 series '$s' (expected 1.14, 2.2, 1.14-mpi or 2.2-mpi)" ;;
    esac
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    else
        sudo -n "$@"
    fi
}

pkg_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == "ii"* ]]
}

# The python3 that ships with the OS (pyenv/conda shims may lack the venv module).
system_python() {
    if [[ -x /usr/bin/python3 ]]; then
        printf '%s\n' /usr/bin/python3
    else
        command -v python3 || die "python3 not found"
    fi
}

version_ge() { # version_ge A B: A >= B (dotted numbers)
    [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1) == "$2" ]]
}

# ---------------------------------------------------------------------------------------------
# prerequisites
# ---------------------------------------------------------------------------------------------
deps_apt() { # deps_apt [series]
    command -v dpkg-query >/dev/null 2>&1 || die "this script needs a Debian-based system (dpkg-query not found)"
    local missing=() p wanted=("${APT_PACKAGES[@]}")
    [[ ${1:-} == *-mpi ]] && wanted+=("${APT_PACKAGES_MPI[@]}")
    for p in "${wanted[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing apt packages: ${missing[*]}"
        if [[ $(id -u) -ne 0 ]] && ! sudo -n true 2>/dev/null; then
            die "missing packages: ${missing[*]}; install them as root (or run: sudo bash $0 deps)"
        fi
        mkdir -p "$HDF5_CACHE/logs"
        LOG=$HDF5_CACHE/logs/apt-deps.log
        : >"$LOG"
        # Refresh the package lists only when something is missing.
        run_logged "apt-get update" as_root apt-get -q update
        run_logged "apt-get install ${missing[*]}" as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get -q install -y --no-install-recommends "${missing[@]}"
        LOG=""
    fi
    if pkg_installed libhdf5-dev; then
        log "WARNING: libhdf5-dev (Debian's HDF5 1.10) is installed; make sure HDF5_DIR points at the"
        log "WARNING: prefix printed by this script, or the Rust build may pick up the wrong HDF5."
    fi
}

# A CMake >= 3.26 from PyPI in a private venv (Debian 12's cmake is 3.25; HDF5 2.x needs 3.26).
VENV_DIR=$CACHE_ROOT/venv-cmake
CMAKE_22=$VENV_DIR/bin/cmake
deps_cmake_venv() {
    if [[ -x $CMAKE_22 ]]; then
        local v
        v=$("$CMAKE_22" --version 2>/dev/null | sed -n '1s/^cmake version //p')
        if [[ -n $v ]] && version_ge "$v" "$CMAKE_MIN_22"; then
            return 0
        fi
    fi
    log "installing PyPI '$PYPI_CMAKE_SPEC' into $VENV_DIR"
    rm -rf "$VENV_DIR"
    mkdir -p "$CACHE_ROOT"
    "$(system_python)" -m venv "$VENV_DIR" >&2 || die "python3 -m venv failed (is python3-venv installed?)"
    "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "$PYPI_CMAKE_SPEC" >&2 ||
        die "pip install '$PYPI_CMAKE_SPEC' failed"
    [[ -x $CMAKE_22 ]] || die "the PyPI cmake package did not install $CMAKE_22"
    log "CMake for 2.2: $("$CMAKE_22" --version | head -n1)"
}

cmd_deps() {
    local series=$1
    deps_apt "$series"
    if [[ ${series%-mpi} == 2.2 ]]; then
        deps_cmake_venv
        command -v cargo >/dev/null 2>&1 ||
            die "cargo not found: the 2.2 sources come from the Rust crate registry through cargo (install Rust first)"
    fi
}

# ---------------------------------------------------------------------------------------------
# build recipes (the option lists are part of the cache key)
# ---------------------------------------------------------------------------------------------
COMMON_OPTS=(
    -DCMAKE_BUILD_TYPE=Release
    -DBUILD_SHARED_LIBS=ON
    -DBUILD_STATIC_LIBS=OFF
    -DHDF5_BUILD_HL_LIB=ON
    -DHDF5_BUILD_CPP_LIB=OFF
    -DHDF5_BUILD_JAVA=OFF
    -DHDF5_BUILD_EXAMPLES=OFF
    -DHDF5_BUILD_DOC=OFF
    -DHDF5_ENABLE_PARALLEL=OFF
    -DHDF5_ENABLE_THREADSAFE=OFF
    -DHDF5_ENABLE_SZIP_SUPPORT=OFF
    -DHDF5_ENABLE_DEPRECATED_SYMBOLS=ON
    -DHDF5_ALLOW_EXTERNAL_SUPPORT=NO
    -DHDF5_NO_PACKAGES=ON
)

# The 2.2 build: C and HL (serial or parallel alike).
readonly OPTS_22=(
    -DCMAKE_INSTALL_LIBDIR=lib
    -DHDF5_ONLY_SHARED_LIBS=ON
    -DHDF5_BUILD_FORTRAN=OFF
    -DHDF5_BUILD_TOOLS=OFF
    -DHDF5_BUILD_UTILS=OFF
    -DHDF5_ENABLE_ZLIB_SUPPORT=ON
    -DBUILD_TESTING=OFF
)

recipe_opts() {
    local series=$1
    OPTS=("${COMMON_OPTS[@]}")
    if [[ $series == *-mpi ]]; then
        OPTS=("${OPTS[@]/-DHDF5_ENABLE_PARALLEL=OFF/-DHDF5_ENABLE_PARALLEL=ON}")
    fi
    case $series in
    1.14-mpi)
        # Parallel: C, HL and Fortran (h5pcc, h5pfc); the serial 1.14 build has the tools.
        OPTS+=(
            -DCMAKE_C_COMPILER=mpicc
            -DCMAKE_Fortran_COMPILER=mpifort
            -DONLY_SHARED_LIBS=ON
            -DHDF5_BUILD_FORTRAN=ON
            -DHDF5_BUILD_TOOLS=OFF
            -DHDF5_BUILD_UTILS=OFF
            -DHDF5_ENABLE_Z_LIB_SUPPORT=ON
            -DBUILD_TESTING=OFF
        )
        ;;
    2.2-mpi) OPTS+=(-DCMAKE_C_COMPILER=mpicc "${OPTS_22[@]}") ;;
    1.14)
        OPTS+=(
            -DONLY_SHARED_LIBS=ON
            -DHDF5_BUILD_FORTRAN=ON
            -DHDF5_BUILD_TOOLS=ON
            -DHDF5_ENABLE_Z_LIB_SUPPORT=ON
            -DBUILD_TESTING=ON
            -DHDF5_TEST_API=ON
            -DHDF5_TEST_API_INSTALL=ON
            -DHDF5_TEST_SERIAL=ON
            -DHDF5_TEST_TOOLS=OFF
            -DHDF5_TEST_EXAMPLES=OFF
            -DHDF5_TEST_SWMR=OFF
            -DHDF5_TEST_PARALLEL=OFF
            -DHDF5_TEST_FORTRAN=OFF
            -DHDF5_TEST_CPP=OFF
            -DHDF5_TEST_JAVA=OFF
        )
        ;;
    2.2) OPTS+=("${OPTS_22[@]}") ;;
    esac
    if [[ -n ${DSET_SPLIT_HDF5_CMAKE_ARGS:-} ]]; then
        local extra
        read -r -a extra <<<"$DSET_SPLIT_HDF5_CMAKE_ARGS"
        OPTS+=("${extra[@]}")
    fi
}

# Short hash of everything that decides the content of a prefix (except the HDF5 version, which
# is in the directory name).
recipe_key() {
    local series=$1 src
    recipe_opts "$series"
    case ${series%-mpi} in
    1.14) src="debian-source:hdf5:1.14" ;;
    2.2) src="crate:$CRATE_NAME=$CRATE_VERSION" ;;
    esac
    printf '%s\n' "recipe=$RECIPE_VERSION" "series=$series" "source=$src" "${OPTS[@]}" |
        sha256sum | cut -c1-8
}

# The newest complete prefix for <series> built with the current recipe, if any.
find_prefix() {
    local series=$1 key d best="" bestv="" want=""
    key=$(recipe_key "$series")
    if [[ ${series%-mpi} == 1.14 && -n ${DSET_SPLIT_HDF5_DEBIAN_VERSION:-} ]]; then
        want=${DSET_SPLIT_HDF5_DEBIAN_VERSION#*:} # 1.14.5+repack-3 -> 1.14.5
        want=${want%%[+~-]*}
    fi
    for d in "$HDF5_CACHE/${series%-mpi}".*-"$key"; do
        [[ -f $d/$STAMP_NAME ]] || continue
        local v=${d##*/}
        v=${v%-"$key"}
        [[ -z $want || $v == "$want" ]] || continue
        if [[ -z $bestv ]] || version_ge "$v" "$bestv"; then
            best=$d
            bestv=$v
        fi
    done
    [[ -n $best ]] || return 1
    printf '%s\n' "$best"
}

# HDF5 version from a source tree's src/H5public.h.
hdf5_source_version() {
    local h=$1/src/H5public.h maj min rel
    [[ -f $h ]] || die "not an HDF5 source tree: $1"
    maj=$(sed -n 's/^#define H5_VERS_MAJOR[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p' "$h")
    min=$(sed -n 's/^#define H5_VERS_MINOR[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p' "$h")
    rel=$(sed -n 's/^#define H5_VERS_RELEASE[[:space:]]\{1,\}\([0-9]\{1,\}\).*/\1/p' "$h")
    [[ -n $maj && -n $min && -n $rel ]] || die "cannot read the HDF5 version from $h"
    printf '%s.%s.%s\n' "$maj" "$min" "$rel"
}

# ---------------------------------------------------------------------------------------------
# sources: Debian source package hdf5 (1.14)
# ---------------------------------------------------------------------------------------------

# Debian archive URIs from the machine's own apt configuration (main archive only, not the
# security archive), most likely first.
debian_mirror_candidates() {
    if [[ -n ${DSET_SPLIT_DEBIAN_MIRROR:-} ]]; then
        printf '%s\n' "${DSET_SPLIT_DEBIAN_MIRROR%/}"
        return 0
    fi
    local codename=""
    if [[ -r /etc/os-release ]]; then
        codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
    fi
    # Where this machine's apt reads its sources (normally /etc/apt/sources.list{,.d}).
    local sl=/etc/apt/sources.list sp=/etc/apt/sources.list.d/
    eval "$(apt-config shell sl Dir::Etc::SourceList/f sp Dir::Etc::SourceParts/d)"
    sp=${sp%/}
    local files=() f
    for f in "$sp"/*.sources; do [[ -f $f ]] && files+=("$f"); done
    # deb822 files: stanzas with Types/URIs/Suites/Enabled fields.
    if ((${#files[@]})); then
        awk -v cn="$codename" '
            function main_suite(s) {
                if (s ~ /-security$/) return 0
                return (s == cn || s == cn "-updates" || s == cn "-backports" || s == "stable" ||
                        s == "oldstable" || s == "testing" || s == "unstable" || s == "sid")
            }
            function flush(   n, i, ok, s, u) {
                if (types ~ /(^|[ \t])deb(-src)?([ \t]|$)/ && tolower(enabled) !~ /^(no|false|0)$/) {
                    ok = 0
                    n = split(suites, s, /[ \t]+/)
                    for (i = 1; i <= n; i++) if (main_suite(s[i])) ok = 1
                    if (ok) { n = split(uris, u, /[ \t]+/); for (i = 1; i <= n; i++) if (u[i] != "") print u[i] }
                }
                types = uris = suites = enabled = ""; key = ""
            }
            FNR == 1 { flush() }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { val = $0; sub(/^[ \t]+/, "", val); add(key, val); next }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                add(key, val)
            }
            function add(k, v) {
                if (k == "types") types = types " " v
                else if (k == "uris") uris = uris " " v
                else if (k == "suites") suites = suites " " v
                else if (k == "enabled") enabled = v
            }
            END { flush() }
        ' "${files[@]}"
    fi
    # one-line format: deb [options] URI suite component...
    files=()
    for f in "$sl" "$sp"/*.list; do [[ -f $f ]] && files+=("$f"); done
    if ((${#files[@]})); then
        awk -v cn="$codename" '
            {
                sub(/#.*/, "")
                if ($1 != "deb" && $1 != "deb-src") next
                line = $0
                sub(/^[ \t]*deb(-src)?[ \t]+/, "", line)
                if (line ~ /^\[/) sub(/^\[[^]]*\][ \t]*/, "", line)
                n = split(line, w, /[ \t]+/)
                if (n < 2) next
                s = w[2]
                if (s ~ /-security$/) next
                if (s == cn || s == cn "-updates" || s == cn "-backports" || s == "stable" ||
                    s == "oldstable" || s == "testing" || s == "unstable" || s == "sid") print w[1]
            }
        ' "${files[@]}"
    fi
} 2>/dev/null

# Unique candidates (security/cdrom archives excluded, trailing slash removed); URIs whose index
# in the machine's apt lists says "Origin: Debian" / "Label: Debian" come first.
debian_mirrors() {
    local lists=/var/lib/apt/lists uri stem known=() other=()
    eval "$(apt-config shell lists Dir::State::Lists/d)"
    while IFS= read -r uri; do
        # apt's list file names: URI without scheme, '/' -> '_'.
        stem=${uri#*://}
        stem=${stem//\//_}
        if compgen -G "$lists/${stem}_dists_*Release" >/dev/null &&
            grep -qsx -e 'Origin: Debian' "$lists/${stem}"_dists_*Release 2>/dev/null &&
            grep -qsx -e 'Label: Debian' "$lists/${stem}"_dists_*Release 2>/dev/null; then
            known+=("$uri")
        else
            other+=("$uri")
        fi
    done < <(debian_mirror_candidates | sed -e 's:/*$::' | grep -v -e '^cdrom:' -e '-security$' | awk '!seen[$0]++')
    if ((${#known[@]})); then printf '%s\n' "${known[@]}"; fi
    if ((${#other[@]})); then printf '%s\n' "${other[@]}"; fi
}

APT_DIR=""
apt_private() { # apt_private <apt-get|apt-cache> args...
    local tool=$1
    shift
    local opts=(
        -c "$APT_DIR/apt.conf"
        -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
        -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
        -o "Dir::Etc::Preferences=$APT_DIR/preferences"
        -o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d"
        -o "Dir::State::Lists=$APT_DIR/lists"
        -o "Dir::Cache=$APT_DIR/cache"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "Acquire::Languages=none"
        -o "APT::Get::List-Cleanup=true"
    )
    # Files land in the (root-only) cache dir; apt's _apt download user could not write there.
    if [[ $(id -u) -eq 0 ]]; then
        opts+=(-o "APT::Sandbox::User=root")
    fi
    "$tool" "${opts[@]}" "$@"
}

# Downloads (and verifies, via apt) the newest available hdf5 1.14.x Debian source package into
# $HDF5_CACHE/downloads/debian and prints the path of its .dsc.
fetch_debian_source() {
    local dl=$HDF5_CACHE/downloads/debian
    mkdir -p "$dl"
    # Reuse a completed download (apt verified it when it was fetched): no network needed.
    local pin=${DSET_SPLIT_HDF5_DEBIAN_VERSION:-} pattern='hdf5_1.14.*.dsc.complete' done_dsc
    if [[ -n $pin ]]; then
        [[ $pin == 1.14.* ]] || die "DSET_SPLIT_HDF5_DEBIAN_VERSION=$pin is not a 1.14.x version"
        pattern="hdf5_$pin.dsc.complete"
    fi
    done_dsc=$(find "$dl" -maxdepth 1 -name "$pattern" -printf '%f\n' 2>/dev/null |
        sed 's/\.complete$//' | sort -V | tail -n1)
    if [[ -n $done_dsc && -f $dl/$done_dsc ]]; then
        log "  reusing downloaded Debian source $done_dsc"
        printf '%s\n' "$dl/$done_dsc"
        return 0
    fi

    [[ -r $DEBIAN_KEYRING ]] || die "$DEBIAN_KEYRING missing (install debian-archive-keyring)"
    APT_DIR=$HDF5_CACHE/apt
    rm -rf "$APT_DIR"
    mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/preferences.d" "$APT_DIR/lists/partial" \
        "$APT_DIR/cache/archives/partial"
    : >"$APT_DIR/preferences"
    # The machine's apt.conf.d stays in effect (proxies etc.), but not its hooks: they act on the
    # machine's own apt state (e.g. Docker images' "rm /var/cache/apt/archives/*.deb").
    cat >"$APT_DIR/apt.conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
#clear DPkg::Pre-Install-Pkgs;
EOF

    local mirrors mirror ok="" records=""
    mapfile -t mirrors < <(debian_mirrors)
    ((${#mirrors[@]})) || die "no Debian archive found in /etc/apt/sources.list{,.d}; set DSET_SPLIT_DEBIAN_MIRROR to its URI"
    for mirror in "${mirrors[@]}"; do
        local suite
        : >"$APT_DIR/sources.list"
        for suite in $DEBIAN_SOURCE_SUITES; do
            printf 'deb-src [signed-by=%s] %s %s main\n' "$DEBIAN_KEYRING" "$mirror" "$suite" >>"$APT_DIR/sources.list"
        done
        log "  reading Debian source indexes ($DEBIAN_SOURCE_SUITES) from the machine's Debian mirror"
        {
            printf '\n==== private apt sources.list:\n'
            cat "$APT_DIR/sources.list"
        } >>"$LOG"
        # A suite missing on the mirror is not fatal; an index that fails verification is never
        # used by apt (unsigned/badly signed repositories are errors).
        apt_private apt-get update >>"$LOG" 2>&1 </dev/null || log "  (apt-get update reported errors, see log)"
        records=$(apt_private apt-cache showsrc --only-source hdf5 2>>"$LOG" || true)
        if grep -q '^Version: 1\.14\.' <<<"$records"; then
            ok=1
            break
        fi
        log "  no hdf5 1.14.x source package found at this mirror"
    done
    [[ -n $ok ]] || fail_with_log "finding a verified hdf5 1.14.x source package (suites: $DEBIAN_SOURCE_SUITES)"

    # Newest first; DSET_SPLIT_HDF5_DEBIAN_VERSION picks one.
    local versions v got=""
    mapfile -t versions < <(sed -n 's/^Version: //p' <<<"$records" | grep -E '^1\.14\.' | sort -u -V -r)
    if [[ -n $pin ]]; then
        printf '%s\n' "${versions[@]}" | grep -qxF -e "$pin" ||
            die "hdf5=$pin is not in the Debian source indexes (available: ${versions[*]})"
        versions=("$pin")
    fi
    for v in "${versions[@]}"; do
        log "  downloading Debian source package hdf5=$v"
        if (cd "$dl" && apt_private apt-get -q source --download-only "hdf5=$v") >>"$LOG" 2>&1 </dev/null; then
            got=$v
            break
        fi
        log "  hdf5=$v is listed but could not be downloaded; trying an older one"
    done
    [[ -n $got ]] || fail_with_log "downloading the hdf5 source package"
    local dsc="hdf5_${got#*:}.dsc"
    [[ -f $dl/$dsc ]] || fail_with_log "downloading $dsc"
    : >"$dl/$dsc.complete"
    rm -rf "$APT_DIR" # 70+ MB of indexes, only needed for this download
    printf '%s\n' "$dl/$dsc"
}

# ---------------------------------------------------------------------------------------------
# sources: crate hdf5-metno-src (2.2)
# ---------------------------------------------------------------------------------------------

# Fetch the crate through cargo (checksum-verified against the registry index) and print the
# directory holding its HDF5 sources.
fetch_crate_source() {
    local proj=$HDF5_CACHE/downloads/crate-fetch
    mkdir -p "$proj/src"
    cat >"$proj/Cargo.toml" <<EOF
[package]
name = "dset-split-hdf5-source-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
path = "src/lib.rs"

[dependencies]
$CRATE_NAME = { version = "=$CRATE_VERSION", default-features = false }

[workspace]
EOF
    : >"$proj/src/lib.rs"
    # Offline first (instant when the crate is already in cargo's cache), then online.
    # (Run from $proj, so that a rust-toolchain file of the caller's directory does not apply.)
    if ! env -C "$proj" cargo fetch --offline >>"$LOG" 2>&1 </dev/null; then
        log "  fetching crate $CRATE_NAME $CRATE_VERSION with cargo"
        run_logged "cargo fetch ($CRATE_NAME $CRATE_VERSION)" env -C "$proj" cargo fetch
    fi
    local manifest
    manifest=$(env -C "$proj" cargo metadata --offline --format-version 1 2>>"$LOG" |
        "$(system_python)" -c '
import json, sys
name, version = sys.argv[1], sys.argv[2]
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == name and p["version"] == version:
        print(p["manifest_path"])
        break
' "$CRATE_NAME" "$CRATE_VERSION") || true
    [[ -n $manifest && -f $manifest ]] || fail_with_log "locating the sources of $CRATE_NAME $CRATE_VERSION"
    local dir
    dir=$(dirname "$manifest")/ext/hdf5
    [[ -f $dir/CMakeLists.txt ]] || die "$CRATE_NAME $CRATE_VERSION has no ext/hdf5/CMakeLists.txt (at $dir)"
    printf '%s\n' "$dir"
}

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

# Checks on a freshly installed prefix; dies with a message on the first failure.
verify_prefix() {
    local series=$1 prefix=$2 soname
    case ${series%-mpi} in
    1.14) soname=310 ;;
    2.2) soname=320 ;;
    esac
    compgen -G "$prefix/lib/libhdf5.so.$soname*" >/dev/null || die "check failed: no $prefix/lib/libhdf5.so.$soname*"
    compgen -G "$prefix/lib/libhdf5_hl.so.$soname*" >/dev/null || die "check failed: no $prefix/lib/libhdf5_hl.so.$soname*"
    [[ -f $prefix/include/hdf5.h ]] || die "check failed: no $prefix/include/hdf5.h"
    [[ -f $prefix/lib/pkgconfig/hdf5.pc ]] || die "check failed: no $prefix/lib/pkgconfig/hdf5.pc"
    grep -q '^#define H5_HAVE_FILTER_DEFLATE 1' "$prefix/include/H5pubconf.h" ||
        die "check failed: zlib (deflate) support is not enabled in $prefix/include/H5pubconf.h"
    if [[ $series == *-mpi ]]; then
        grep -q '^#define H5_HAVE_PARALLEL 1' "$prefix/include/H5pubconf.h" ||
            die "check failed: $prefix/include/H5pubconf.h does not define H5_HAVE_PARALLEL"
    fi
    # A C program compiled against the prefix runs and reports the expected version.
    local tmp
    tmp=$(mktemp -d)
    cat >"$tmp/v.c" <<'EOF'
#include <stdio.h>
#include "hdf5.h"
#include "hdf5_hl.h"
int main(void) {
    unsigned maj, min, rel;
    if (H5get_libversion(&maj, &min, &rel) < 0) return 1;
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) return 2;
    printf("%u.%u.%u\n", maj, min, rel);
    return 0;
}
EOF
    local cc_cmd=(cc)
    [[ $series == *-mpi ]] && cc_cmd=(mpicc)
    [[ -x $prefix/bin/h5cc ]] && cc_cmd=("$prefix/bin/h5cc")
    [[ -x $prefix/bin/h5pcc ]] && cc_cmd=("$prefix/bin/h5pcc")
    if [[ ${cc_cmd[0]} != "$prefix"/* ]]; then
        cc_cmd+=("-I$prefix/include")
    fi
    (cd "$tmp" && "${cc_cmd[@]}" -o v v.c "-L$prefix/lib" -lhdf5_hl -lhdf5 "-Wl,-rpath,$prefix/lib") >>"$LOG" 2>&1 ||
        { rm -rf "$tmp"; fail_with_log "compiling a test program against $prefix"; }
    local got
    got=$("$tmp/v" 2>>"$LOG") || { rm -rf "$tmp"; fail_with_log "running a test program against $prefix"; }
    rm -rf "$tmp"
    [[ $got == "$EXPECT_VERSION" ]] || die "check failed: test program reports HDF5 $got, expected $EXPECT_VERSION"
    if [[ $series == 1.14* ]]; then
        local t fc=h5fc
        if [[ $series == 1.14 ]]; then
            for t in h5cc h5fc h5dump h5ls h5diff h5repack h5copy h5stat h5_api_test; do
                [[ -x $prefix/bin/$t ]] || die "check failed: no $prefix/bin/$t"
            done
            "$prefix/bin/h5dump" --version >>"$LOG" 2>&1 || fail_with_log "$prefix/bin/h5dump --version"
        else
            fc=h5pfc
            for t in h5pcc h5pfc; do
                [[ -x $prefix/bin/$t ]] || die "check failed: no $prefix/bin/$t"
            done
        fi
        tmp=$(mktemp -d)
        cat >"$tmp/f.f90" <<'EOF'
program v
  use hdf5
  implicit none
  integer :: err, maj, min, rel
  call h5open_f(err)
  call h5get_libversion_f(maj, min, rel, err)
  print '(i0,".",i0,".",i0)', maj, min, rel
  call h5close_f(err)
end program v
EOF
        (cd "$tmp" && "$prefix/bin/$fc" -o f f.f90 "-Wl,-rpath,$prefix/lib") >>"$LOG" 2>&1 ||
            { rm -rf "$tmp"; fail_with_log "compiling a Fortran test program with $prefix/bin/$fc"; }
        got=$("$tmp/f" 2>>"$LOG" | tr -d ' ') || { rm -rf "$tmp"; fail_with_log "running the Fortran test program"; }
        rm -rf "$tmp"
        [[ $got == "$EXPECT_VERSION" ]] || die "check failed: Fortran test program reports '$got', expected $EXPECT_VERSION"
    fi
}

# Build directories (relative to the build tree) whose targets end up installed. BUILD_TESTING=ON
# is required for the API tests, but the rest of the test suite is not built: `make all` would
# build ~100 test programs.
readonly INSTALLED_DIRS_114=(src hl/src fortran/src hl/fortran/src tools/src hl/tools utils)

build_114() { # build_114 <src> <build> <prefix>
    local src=$1 bld=$2 prefix=$3 d
    step "configure (cmake $(cmake --version | sed -n '1s/^cmake version //p'))" \
        cmake -S "$src" -B "$bld" -G "Unix Makefiles" "-DCMAKE_INSTALL_PREFIX=$prefix" "${OPTS[@]}"
    if [[ $BUILDING == 1.14-mpi ]]; then # no tests, no tools: everything built is installed
        step "build parallel C, HL, Fortran (-j$JOBS)" cmake --build "$bld" -j"$JOBS"
        step "install into $prefix" cmake --install "$bld"
        return 0
    fi
    for d in "${INSTALLED_DIRS_114[@]}"; do
        [[ -f $bld/$d/Makefile ]] || die "unexpected build tree: no $bld/$d/Makefile"
    done
    local t0
    t0=$(now)
    log "  build C, HL, Fortran, tools (-j$JOBS) ..."
    for d in "${INSTALLED_DIRS_114[@]}"; do
        run_logged "build $d" make -C "$bld/$d" -j"$JOBS" --no-print-directory
    done
    log "  build C, HL, Fortran, tools done ($(($(now) - t0)) s)"
    # h5_api_test and testhdf5 (installed as h5_api_test_testhdf5, the API suite's "extra" test)
    step "build the VOL API tests (-j$JOBS)" make -C "$bld" -j"$JOBS" --no-print-directory h5_api_test testhdf5
    step "install into $prefix" cmake --install "$bld"
}

cmd_build() {
    local series=$1 existing
    deps_apt "$series"
    if existing=$(find_prefix "$series"); then
        log "HDF5 $series: using cached build"
        printf '%s\n' "$existing"
        return 0
    fi
    if [[ ${series%-mpi} == 2.2 ]]; then
        cmd_deps "$series"
    fi
    BUILDING=$series

    mkdir -p "$HDF5_CACHE/logs"
    # One build per series at a time (several test processes may call this concurrently).
    local lock=$HDF5_CACHE/.lock-$series
    exec 9>"$lock"
    if ! flock -n 9; then
        log "HDF5 $series: another build is running; waiting for it"
        flock 9
    fi
    if existing=$(find_prefix "$series"); then
        printf '%s\n' "$existing"
        return 0
    fi

    local key t0
    key=$(recipe_key "$series")
    recipe_opts "$series" # sets OPTS (recipe_key ran in a subshell)
    t0=$(now)
    LOG=$HDF5_CACHE/logs/$series-$key.log
    : >"$LOG"
    log "HDF5 $series: building (recipe $key, log: $LOG)"
    # Anything for this key without a stamp is a leftover of an interrupted build.
    local d
    for d in "$HDF5_CACHE/${series%-mpi}".*-"$key"; do
        [[ -e $d && ! -f $d/$STAMP_NAME ]] && { log "  removing incomplete $d"; rm -rf "$d"; }
    done

    local work=$HDF5_CACHE/work/$series-$key src bld
    rm -rf "$work"
    mkdir -p "$work"
    src=$work/src
    bld=$work/build
    local origin
    case ${series%-mpi} in
    1.14)
        local dsc
        dsc=$(fetch_debian_source)
        origin="Debian source package $(basename "$dsc" .dsc)"
        log "  unpack $(basename "$dsc") (dpkg-source: checksums, Debian's patches) ..."
        if ! (cd "$work" && dpkg-source -x "$dsc" "$src") >>"$LOG" 2>&1 </dev/null; then
            rm -f "$dsc.complete" # re-download next time
            fail_with_log "dpkg-source -x $dsc"
        fi
        ;;
    2.2)
        local crate_src
        crate_src=$(fetch_crate_source)
        origin="crate $CRATE_NAME $CRATE_VERSION"
        step "copy the HDF5 sources of $CRATE_NAME $CRATE_VERSION" cp -R "$crate_src" "$src"
        ;;
    esac
    EXPECT_VERSION=$(hdf5_source_version "$src")
    [[ $EXPECT_VERSION == "${series%-mpi}".* ]] || die "$origin carries HDF5 $EXPECT_VERSION, not ${series%-mpi}.x"
    local prefix=$HDF5_CACHE/$EXPECT_VERSION-$key
    rm -rf "$prefix"
    log "  HDF5 $EXPECT_VERSION from $origin -> $prefix"

    case ${series%-mpi} in
    1.14) build_114 "$src" "$bld" "$prefix" ;;
    2.2) build_22 "$src" "$bld" "$prefix" ;;
    esac

    log "  checking the installation ..."
    verify_prefix "$series" "$prefix"
    log "  checks passed"
    {
        printf 'hdf5_version=%s\n' "$EXPECT_VERSION"
        printf 'series=%s\n' "$series"
        printf 'source=%s\n' "$origin"
        printf 'recipe_key=%s\n' "$key"
        printf 'recipe_version=%s\n' "$RECIPE_VERSION"
        printf 'built=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        printf 'build_seconds=%s\n' "$(($(now) - t0))"
        printf 'cmake_option=%s\n' "${OPTS[@]}"
    } >"$prefix/$STAMP_NAME.tmp"
    mv "$prefix/$STAMP_NAME.tmp" "$prefix/$STAMP_NAME"
    rm -rf "$work"
    rmdir "$HDF5_CACHE/work" 2>/dev/null || true
    log "HDF5 $series: done in $(($(now) - t0)) s"
    printf '%s\n' "$prefix"
}

build_22() { # build_22 <src> <build> <prefix>
    local src=$1 bld=$2 prefix=$3
    step "configure (cmake $("$CMAKE_22" --version | sed -n '1s/^cmake version //p'))" \
        "$CMAKE_22" -S "$src" -B "$bld" -G "Unix Makefiles" "-DCMAKE_INSTALL_PREFIX=$prefix" "${OPTS[@]}"
    step "build C and HL libraries (-j$JOBS)" "$CMAKE_22" --build "$bld" -j"$JOBS"
    step "install into $prefix" "$CMAKE_22" --install "$bld"
}

# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------
cmd_prefix() {
    local series=$1 p
    p=$(find_prefix "$series") || die "HDF5 $series is not built yet (run: bash scripts/hdf5.sh build $series)"
    printf '%s\n' "$p"
}

# `export` lines for eval: eval "$(bash scripts/hdf5.sh env 1.14)"
# shellcheck disable=SC2016 # the $PATH etc. in the output are expanded by the caller's shell
cmd_env() {
    local series=$1 p
    p=$(cmd_prefix "$series")
    printf 'export HDF5_DIR=%q\n' "$p"
    printf 'export PATH=%q"${PATH:+:$PATH}"\n' "$p/bin"
    printf 'export LD_LIBRARY_PATH=%q"${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"\n' "$p/lib"
    printf 'export PKG_CONFIG_PATH=%q"${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"\n' "$p/lib/pkgconfig"
    if [[ -x $p/bin/h5_api_test ]]; then
        printf 'export HDF5_API_TEST=%q\n' "$p/bin/h5_api_test"
    fi
}

# Run HDF5's VOL API tests in a fresh scratch directory (they create files in the working
# directory). HDF5_VOL_CONNECTOR / HDF5_PLUGIN_PATH from the caller's environment select the
# connector; without them the native connector is tested.
cmd_api_test() {
    local series=$1
    shift
    [[ $series == 1.14 ]] || die "the VOL API tests are only built for the 1.14 series"
    local p scratch rc=0
    p=$(cmd_prefix "$series")
    [[ -x $p/bin/h5_api_test ]] || die "no $p/bin/h5_api_test"
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/h5_api_test.XXXXXX")
    log "running $p/bin/h5_api_test${*:+ $*} in $scratch"
    (cd "$scratch" && LD_LIBRARY_PATH="$p/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$p/bin/h5_api_test" "$@") || rc=$?
    rm -rf "$scratch"
    return "$rc"
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
    -h | --help | help)
        usage
        return 0
        ;;
    deps | build | prefix | env)
        [[ $# -le 1 ]] || die "too many arguments for '$cmd' (see --help)"
        local series
        series=$(series_arg "${1:-}")
        "cmd_$cmd" "$series"
        ;;
    api-test)
        local series
        if [[ ${1:-} == 1.14 || ${1:-} == 2.2 ]]; then
            series=$1
            shift
        else
            series=$(series_arg "")
        fi
        cmd_api_test "$series" "$@"
        ;;
    "")
        usage >&2
        return 2
        ;;
    *) die "unknown command '$cmd' (see --help)" ;;
    esac
}

main "$@"
