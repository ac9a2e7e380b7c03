# Sourced by the bench scripts: the release binaries they measure.
#
# release_binaries BUILD [SWIFT-BUILD-ARGUMENTS...]
#   Builds `sslm` and `sslm-bench` in release mode with the static Swift runtime (what `make release`
#   ships) when BUILD is 1, then sets `bin` to the directory that holds them. Extra arguments (such as
#   `--scratch-path DIR`) go to every `swift build`. Run it from the repository's root.
release_binaries() {
    local build="$1"
    shift
    local flags=(-c release --static-swift-stdlib "$@")
    if ((build)); then
        swift build "${flags[@]}" --product sslm >&2
        swift build "${flags[@]}" --product sslm-bench >&2
    fi
    bin="$(swift build "${flags[@]}" --show-bin-path)"
}
