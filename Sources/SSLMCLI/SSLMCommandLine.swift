import ArgumentParser
import Foundation

/// Entry point of the command line: chooses the front end by the program name.
public enum SSLMCommandLine {
    public static func run() async {
        await SSLMRootCommand.main()
    }
}
