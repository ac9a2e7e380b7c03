# sslm — make example | make check | make test | make build | make release | make install | make uninstall | make deb
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

EXAMPLE_TOPDIR := run/example
SWIFT_BUILD_FLAGS ?=

.PHONY: all build release example lint check test bench clean dist deb install uninstall

# Every target imports only the targets Package.swift declares for it (Docs/architecture.md).
TEST_BUILD_FLAGS := --explicit-target-dependency-import-check error

# Release builds link the Swift runtime statically: no dynamic loading and symbol binding of the Swift
# shared objects at every start (`sslm --version` 7.5 ms instead of 12.5 ms, Docs/PERFORMANCE.md).
RELEASE_FLAGS := -c release --static-swift-stdlib

# make install: PREFIX (default /usr/local) and DESTDIR (staging root, for packagers).
PREFIX ?= /usr/local
DESTDIR ?=
# Generated files for install (completions, man page) are built here from the release binary.
DIST_DIR := .build/dist
# The man page's date: the last commit's, so that the page does not change with every build.
MAN_DATE := $(shell git log -1 --format=%cs 2>/dev/null)

all: build

build:
	scripts/install-deps build
	swift build $(SWIFT_BUILD_FLAGS)

release:
	scripts/install-deps build
	swift build $(RELEASE_FLAGS) $(SWIFT_BUILD_FLAGS)

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

# Style: swift format with the project's .swift-format reports nothing (fix with
# `swift format format -i -r Sources Tests bench Package.swift`).
lint:
	swift format lint --strict -r Sources Tests bench Package.swift

# The fast tier (Tests/README.md): unit, golden, config, PKI and planner tests, the in-process executor tests,
# the CLI's golden output; no daemon (pebble, nsd, nginx, sshd, unbound, the ACME stand-in), no crash matrix,
# no end-to-end applies of the example. SSLM_TEST_TIER=fast disables the suites marked
# `.enabled(if: TestTier.full, …)`; they are reported as skipped.
check: lint
	scripts/install-deps test
	swift build --build-tests $(TEST_BUILD_FLAGS) $(SWIFT_BUILD_FLAGS)
	swift build --product generate-manual $(SWIFT_BUILD_FLAGS)  # for InstallTests (the man page)
	SSLM_TEST_TIER=fast swift test --skip-build $(SWIFT_BUILD_FLAGS)

# The whole test suite (unit, CLI golden, interoperability with the openssl CLI, the daemons, a sample of the
# crash matrix; SSLM_CRASH_TEST_FULL=1 make test runs all of it). The CLI tests run the release build of sslm
# (what ships; less than half the CPU of the debug build per run), and scripts/run-tests runs the suites in
# shards of separate processes at once (Tests/README.md).
test: lint
	scripts/install-deps test
	swift build --build-tests $(TEST_BUILD_FLAGS) $(SWIFT_BUILD_FLAGS)
	swift build --product generate-manual $(SWIFT_BUILD_FLAGS)  # for InstallTests (the man page)
	swift build $(RELEASE_FLAGS) --product sslm $(SWIFT_BUILD_FLAGS)  # the sslm the CLI tests run
	SSLM_TEST_EXECUTABLE="$$(swift build $(RELEASE_FLAGS) --show-bin-path)/sslm" scripts/run-tests

bench:
	scripts/install-deps build
	swift run -c release sslm-bench

clean:
	rm -rf .build run

# The release binary, and what is generated from it: shell completions (`sslm
# --generate-completion-script`) and the man page (swift-argument-parser's generate-manual, the tool
# behind its GenerateManual plugin, run on the built binary by scripts/make-manpage: the page comes from
# the command definitions).
dist:
	scripts/install-deps build
	swift build $(RELEASE_FLAGS) --product sslm $(SWIFT_BUILD_FLAGS)
	swift build $(RELEASE_FLAGS) --product generate-manual $(SWIFT_BUILD_FLAGS)
	set -euo pipefail; \
	bin="$$(swift build $(RELEASE_FLAGS) --show-bin-path $(SWIFT_BUILD_FLAGS))"; \
	rm -rf "$(DIST_DIR)"; mkdir -p "$(DIST_DIR)/man"; \
	for shell in bash zsh fish; do \
	  "$$bin/sslm" --generate-completion-script "$$shell" > "$(DIST_DIR)/sslm.$$shell"; \
	done; \
	scripts/make-manpage "$$bin/sslm" "$$bin/generate-manual" "$(DIST_DIR)/man" "$(MAN_DATE)"; \
	cp "$$bin/sslm" "$(DIST_DIR)/sslm"

# A Debian package, .build/deb/sslm_<version>_<arch>.deb (Docs/install.md): the release binary linked with
# the Swift runtime statically (so the package needs only Debian libraries), the man page, completions, the
# ssl-mgr names and the systemd units. Needs dpkg-deb (and fakeroot, for root:root ownership).
VERSION := $(shell sed -n 's/.*current = "\(.*\)".*/\1/p' Sources/SSLMCore/Version.swift)
deb: dist
	scripts/make-deb --binary "$(DIST_DIR)/sslm" \
	  --dist "$(DIST_DIR)" --version "$(VERSION)" --out .build/deb

# Installs $(PREFIX)/bin/sslm, the ssl-mgr front end $(PREFIX)/bin/sslm-mgr and ssl-mgr's side tools
# sslm-info, sslm-verify, sslm-tlsa-hash, sslm-dhparm (symlinks: sslm selects them by argv[0]),
# completions for bash, zsh and fish, and the man page sslm(1).
SIDE_TOOLS := sslm-mgr sslm-info sslm-verify sslm-tlsa-hash sslm-dhparm
install: dist
	install -d -m 0755 "$(DESTDIR)$(PREFIX)/bin" \
	  "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" \
	  "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d" \
	  "$(DESTDIR)$(PREFIX)/share/man/man1"
	install -s -m 0755 "$(DIST_DIR)/sslm" "$(DESTDIR)$(PREFIX)/bin/sslm"
	for tool in $(SIDE_TOOLS); do ln -sfn sslm "$(DESTDIR)$(PREFIX)/bin/$$tool"; done
	install -m 0644 "$(DIST_DIR)/sslm.bash" "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sslm"
	install -m 0644 "$(DIST_DIR)/sslm.zsh" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sslm"
	install -m 0644 "$(DIST_DIR)/sslm.fish" "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/sslm.fish"
	install -m 0644 "$(DIST_DIR)/man/sslm.1" "$(DESTDIR)$(PREFIX)/share/man/man1/sslm.1"

uninstall:
	for tool in sslm $(SIDE_TOOLS); do rm -f "$(DESTDIR)$(PREFIX)/bin/$$tool"; done
	rm -f \
	  "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sslm" \
	  "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sslm" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/sslm.fish" \
	  "$(DESTDIR)$(PREFIX)/share/man/man1/sslm.1"
