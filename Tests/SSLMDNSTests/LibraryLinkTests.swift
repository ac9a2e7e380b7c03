import SSLMDNS
import Testing

@Test func ldnsLinks() {
    #expect(!DNSResolver.libraryVersion.isEmpty)
}
