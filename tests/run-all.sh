#!/bin/sh
# The whole test suite, as CI runs it: installs the packages, builds vuvm
# twice (gcc; clang with ASan+UBSan and the fuzz targets), runs every
# CTest test in both builds, takes the gcc build's Debian package
# through its whole life (build, lintian, install, use, purge), and runs
# the installed programs as an unprivileged user made for the purpose
# (tests/package/unprivileged.sh; 77, no /dev/kvm, is not a failure).
set -eu
cd "$(dirname "$0")/.."

tests/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)"
ctest --test-dir build --output-on-failure -j 2
tests/package/deb_cycle.sh build
sh tests/package/unprivileged.sh build || [ $? -eq 77 ]

cmake -S . -B build-asan -DCMAKE_C_COMPILER=clang -DVUVM_SANITIZE=ON \
	-DVUVM_FUZZ=ON
cmake --build build-asan -j "$(nproc)"
# The 170 check_bug_* tests (does vuvm-check catch each defect injected
# into vuvm-backend?) ran in the gcc build above; under the sanitizers
# they would only run the same programs again, for two more minutes.
ctest --test-dir build-asan --output-on-failure -j 2 -E '^check_bug_'
