#!/bin/sh
# tailsweep's two commands on a fresh Debian 12 machine (see README.md):
#   ./setup.sh          install what is missing, build, run jobs/quickstart.yaml on 2 MPI ranks
#   ./setup.sh test     install what is missing, build, run the whole test suite
# Other targets: deps (install only), build (deps + build). Run as root or as a user with sudo.
# Builds out of tree: build/ (normal) and build-sanitize/ (ASan + UBSan, for the unit tests).
set -eu
cd "$(dirname "$0")"
top=$(pwd)
target=${1:-quickstart}
jobs=$(nproc 2>/dev/null || echo 2)

PACKAGES="build-essential autoconf automake libtool pkg-config autoconf-archive
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools libgsl-dev check libyaml-dev
  librandom123-dev libopenblas-dev nettle-dev zlib1g-dev valgrind
  python3 python3-venv python3-pip python3-h5py python3-numpy python3-matplotlib python3-xarray python3-h5netcdf
  python3-scipy python3-pytest slurm-wlm munge dieharder"

say() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "setup.sh: need root (or sudo) to run: $*" >&2; exit 1
    fi
}

install_deps() {
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    if [ -z "$missing" ]; then say "Debian packages: all present"; return; fi
    say "installing Debian packages:$missing"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

configure_in() { # DIR [configure args...]
    dir=$1; shift
    if [ ! -f "$dir/Makefile" ]; then
        mkdir -p "$dir"
        (cd "$dir" && "$top/configure" -q "$@")
    fi
}

build() {
    if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
        say "bootstrap"
        ./bootstrap >/dev/null
    fi
    say "configure and build in build/"
    configure_in build
    make -C build -s -j"$jobs"
}

# Open MPI refuses root without these; oversubscription lets 2 ranks run on 1 core too.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1

quickstart() {
    say "running jobs/quickstart.yaml on 2 MPI ranks"
    mpiexec -n 2 build/tailsweep run jobs/quickstart.yaml
    out=$(sed -n 's/^output: *//p' jobs/quickstart.yaml)
    say "the archive: $out"
    h5ls "$out"
    echo
    echo "Open it in Python:  /usr/bin/python3 -c \"import xarray as xr; print(xr.open_dataset('$out', engine='h5netcdf'))\""
}

run_tests() {
    say "test suite (make check) in build/"
    make -C build -j"$jobs" check || { cat build/test-suite.log; exit 1; }
    say "unit tests under valgrind"
    make -C build check-valgrind
    say "unit tests with AddressSanitizer and UndefinedBehaviorSanitizer in build-sanitize/"
    configure_in build-sanitize --enable-sanitizers
    make -C build-sanitize -s -j"$jobs" check-unit || { cat build-sanitize/test-suite.log; exit 1; }
    say "make distcheck (the tarball builds and passes its tests)"
    make -C build -s distcheck >build/distcheck.log 2>&1 || { tail -50 build/distcheck.log; exit 1; }
    say "all tests passed"
}

case $target in
    deps) install_deps ;;
    build) install_deps; build ;;
    quickstart) install_deps; build; quickstart ;;
    test) install_deps; build; run_tests ;;
    *) echo "usage: ./setup.sh [quickstart|test|build|deps]" >&2; exit 2 ;;
esac
