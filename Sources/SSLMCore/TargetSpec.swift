/// A command-line target in ssl-mgr's syntax: `group:svc1,svc2` or `group:ALL` (or `group:*`).
public struct TargetSpec: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    /// nil = every service of the group.
    public var services: [String]?

    /// Parses one argument; an error message names what is wrong.
    public static func parse(_ text: String) -> Result<TargetSpec, SSLMError> {
        guard let colon = text.firstIndex(of: ":") else {
            return .failure(
                SSLMError(
                    .invalidArgument,
                    "target \"\(SafeName.printable(text))\": expected group:service[,service…] or group:ALL"))
        }
        let group = String(text[..<colon])
        let list = text[text.index(after: colon)...].split(separator: ",").map(String.init).filter { !$0.isEmpty }
        if let problem = SafeName.problem(group) {
            return .failure(SSLMError(.invalidArgument, "target \"\(SafeName.printable(text))\": group \(problem)"))
        }
        if list.isEmpty {
            return .failure(
                SSLMError(
                    .invalidArgument,
                    "target \"\(SafeName.printable(text))\": no services (use \(group):ALL for all)"))
        }
        if list.contains(where: { $0 == "*" || $0.uppercased() == "ALL" }) {
            return .success(TargetSpec(group: group, services: nil))
        }
        for service in list {
            if let problem = SafeName.problem(service) {
                return .failure(
                    SSLMError(.invalidArgument, "target \"\(SafeName.printable(text))\": service \(problem)"))
            }
        }
        return .success(TargetSpec(group: group, services: list))
    }

    public var description: String { group + ":" + (services?.joined(separator: ",") ?? "ALL") }
}
