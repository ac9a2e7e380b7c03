import COpenSSL
import Foundation
import SSLMCore

/// PEM "DH PARAMETERS" (PKCS#3) text from system libcrypto: RFC 7919 groups taken from libcrypto's
/// built-in named groups (identical to `openssl genpkey -genparam -algorithm DH -pkeyopt dh_param:ffdheN`),
/// or safe-prime parameters of a given size generated with generator 2.
///
/// Generation of large sizes takes minutes (4096 bits) to hours (8192); use named groups where clients
/// support them. This is the only place sslm links libcrypto.
public enum DHParameters {
    /// The PEM of an RFC 7919 group.
    public static func pem(for group: DHGroup.RFC7919Group) throws -> String {
        try withParameterContext { context in
            guard EVP_PKEY_CTX_set_group_name(context, group.rawValue) == 1 else {
                throw failure("cannot select DH group \(group.rawValue)")
            }
        }
    }

    /// Newly generated parameters with a `bits`-bit safe prime and generator 2.
    public static func generatePEM(bits: Int) throws -> String {
        guard (DHGroup.minimumGeneratedBits...DHGroup.maximumGeneratedBits).contains(bits) else {
            throw SSLMError(
                .invalidArgument,
                "DH size \(bits) is outside \(DHGroup.minimumGeneratedBits)…\(DHGroup.maximumGeneratedBits) bits")
        }
        return try withParameterContext { context in
            // The default generation type of "DH" is a safe prime with a generator. Do not call
            // EVP_PKEY_CTX_set_dh_paramgen_type: in libcrypto 3.0 it crashes (strcmp on NULL) for "DH".
            guard EVP_PKEY_CTX_set_dh_paramgen_prime_len(context, Int32(bits)) == 1,
                EVP_PKEY_CTX_set_dh_paramgen_generator(context, 2) == 1
            else {
                throw failure("cannot configure DH parameter generation for \(bits) bits")
            }
        }
    }

    /// Every libcrypto call of sslm goes through this lock, so libcrypto is only ever used from one thread
    /// at a time. DH work is rare and CPU-bound, so serialising it costs nothing.
    private static let libcryptoLock = NSLock()

    /// Runs paramgen on a fresh DH context configured by `configure`, returns the PEM.
    private static func withParameterContext(_ configure: (OpaquePointer) throws -> Void) throws -> String {
        libcryptoLock.lock()
        defer { libcryptoLock.unlock() }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "DH", nil) else {
            throw failure("libcrypto has no DH implementation")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_paramgen_init(context) == 1 else { throw failure("DH paramgen init failed") }
        try configure(context)
        var key: OpaquePointer?
        guard EVP_PKEY_paramgen(context, &key) == 1, let key else { throw failure("DH parameter generation failed") }
        defer { EVP_PKEY_free(key) }
        guard let bio = BIO_new(BIO_s_mem()) else { throw failure("cannot allocate a memory BIO") }
        defer { BIO_free(bio) }
        guard PEM_write_bio_Parameters(bio, key) == 1 else { throw failure("cannot encode DH parameters") }
        var data: UnsafeMutablePointer<CChar>?
        let length = sslm_BIO_get_mem_data(bio, &data)
        guard length > 0, let data else { throw failure("empty DH parameter encoding") }
        let bytes = UnsafeRawBufferPointer(start: data, count: Int(length))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func failure(_ what: String) -> SSLMError {
        let code = ERR_get_error()
        var detail: String?
        if code != 0 {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            detail = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        ERR_clear_error()
        return SSLMError(.cryptoFailure, what + (detail.map { " (\($0))" } ?? ""))
    }
}
