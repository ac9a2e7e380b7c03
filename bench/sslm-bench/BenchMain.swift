/// Benchmark harness entry point (see bench/README.md).
@main
enum BenchMain {
    static func main() {}
}
