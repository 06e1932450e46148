// Incremental SHA-256 (OpenSSL EVP): chunk ids are the hex digest of the chunk's bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace hn {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t len);
  std::string hex_digest();  // finishes; call reset() before reuse
  void reset();

 private:
  EVP_MD_CTX* ctx_;
};

std::string sha256_hex(const void* data, size_t len);

}  // namespace hn
