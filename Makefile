# sslm — make example | make test | make build | make release
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

EXAMPLE_TOPDIR := run/example
SWIFT_BUILD_FLAGS ?=

.PHONY: all build release example test bench clean

all: build

build:
	scripts/install-deps build
	swift build $(SWIFT_BUILD_FLAGS)

release:
	scripts/install-deps build
	swift build -c release $(SWIFT_BUILD_FLAGS)

# The demo: the bundled example (a local root and intermediate CA, example.com and example.net)
# in a scratch topdir, run/example/. Needs no network.
example: build
	@mkdir -p $(EXAMPLE_TOPDIR)
	@rm -rf $(EXAMPLE_TOPDIR)
	@mkdir -p $(EXAMPLE_TOPDIR)
	@cp -r conf.d.example $(EXAMPLE_TOPDIR)/conf.d
	.build/debug/sslm config check --topdir $(EXAMPLE_TOPDIR)
	.build/debug/sslm apply --topdir $(EXAMPLE_TOPDIR)
	.build/debug/sslm status --topdir $(EXAMPLE_TOPDIR)
	.build/debug/sslm plan --topdir $(EXAMPLE_TOPDIR)

# The whole test suite (unit, CLI golden, interoperability with the openssl CLI).
test:
	scripts/install-deps test
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build $(SWIFT_BUILD_FLAGS)

bench:
	scripts/install-deps build
	swift run -c release sslm-bench

clean:
	rm -rf .build run
