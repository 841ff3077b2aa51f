# Haven: `make run` and `make test` do all the set-up on a fresh Debian 12.
BUILD ?= build
JOBS ?= $(shell nproc)
# ccache, when the machine has it, for rebuilds in several build folders.
CCACHE := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

.PHONY: all deps build run test bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CCACHE)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	BUILD=$(BUILD) scripts/dev-run.sh

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600 -j$(JOBS)

bench: build
	$(BUILD)/tests/bench/haven_bench

clean:
	rm -rf $(BUILD)
