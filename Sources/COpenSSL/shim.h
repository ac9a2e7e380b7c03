#ifndef SSLM_COPENSSL_SHIM_H
#define SSLM_COPENSSL_SHIM_H
// System libcrypto (OpenSSL 3), used only where swift-crypto has no API (DH parameter generation).
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/// BIO_get_mem_data is a macro; Swift cannot call it directly.
static inline long sslm_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}
#endif
