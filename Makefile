# Two entry points, both usable on a fresh Debian 12 machine as root:
#   make demo   install what is missing, build, run the demo
#   make test   install what is missing, build, run the whole test suite
# The real work lives in scripts/setup.sh and CMake; this file only wires it.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all setup configure build demo test bench clean

all: build

setup:
	@scripts/setup.sh

configure: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@$(BUILD_DIR)/examples/demo

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

bench: build
	@$(BUILD_DIR)/bench/transport_bench

clean:
	rm -rf $(BUILD_DIR) build-asan build-tsan build-fuzz
