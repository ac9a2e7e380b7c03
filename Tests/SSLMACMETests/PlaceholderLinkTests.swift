import SSLMACME
import Testing

@Test func acmeModuleLinks() {
    #expect(String(describing: ACMEClient.self) == "ACMEClient")
}
