import SSLMCLI

/// The executable is thin: it hands argv to the CLI module.
@main
enum SSLMMain {
    static func main() async {
        await SSLMCommandLine.run()
    }
}
