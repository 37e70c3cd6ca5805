#!/usr/bin/env bash
# Installs the Debian packages libgptq builds with, skipping what is there.
set -euo pipefail
packages=(cmake g++ make pkg-config python3 libsentencepiece-dev nlohmann-json3-dev libpcre2-dev
          libutf8proc-dev libgtest-dev googletest)
# GPTQ's Cholesky factorisations: LAPACK, with OpenBLAS's threaded BLAS and
# LAPACK behind it (the build prefers OpenBLAS and falls back to liblapack).
packages+=(liblapack-dev libopenblas-dev)
# qemu's user-mode emulator runs the kernel tests on CPUs without AVX / AVX-512.
packages+=(qemu-user)
# The GPU kernels also build for AMD GPUs through Debian's ROCm compiler
# (scripts/build-hip.sh); the CUDA toolkit itself comes with the machine.
packages+=(hipcc libamdhip64-dev)
# The Java, C# and Go bindings (bindings/), their tests and examples.
packages+=(swig default-jdk-headless junit4 libhamcrest-java mono-mcs mono-runtime nunit-console
           libnunit-framework2.6.3-cil golang-go)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
