#ifndef SSLM_CLDNS_SHIM_H
#define SSLM_CLDNS_SHIM_H
// ldns/common.h redefines `bool` unless <stdbool.h> comes first.
#include <stdbool.h>
#include <ldns/ldns.h>
#endif
