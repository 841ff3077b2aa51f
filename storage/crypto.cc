// Haven's cryptography, all of it from libsodium.
#include "storage/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace haven::crypto {
namespace {

constexpr unsigned char kSealVersion = 1;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
// Statistics sealed with AES-256-GCM (KeyRing::SealStatistics).
constexpr unsigned char kGcmSealVersion = 2;
constexpr size_t kGcmNonceBytes = crypto_aead_aes256gcm_NPUBBYTES;
constexpr size_t kGcmTagBytes = crypto_aead_aes256gcm_ABYTES;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::Status Init() {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialise");
  return absl::OkStatus();
}

SecretKey::SecretKey() { bytes_.fill(0); }
SecretKey::~SecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }
SecretKey::SecretKey(const SecretKey& other) : bytes_(other.bytes_) {}
SecretKey& SecretKey::operator=(const SecretKey& other) {
  bytes_ = other.bytes_;
  return *this;
}
SecretKey SecretKey::Random() {
  SecretKey k;
  randombytes_buf(k.data(), kKeyBytes);
  return k;
}

std::string Seal(const SecretKey& key, absl::string_view plaintext,
                 absl::string_view associated_data) {
  std::string out(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kSealVersion;
  randombytes_buf(p + 1, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      p + 1 + kNonceBytes, &written, U(plaintext), plaintext.size(),
      U(associated_data), associated_data.size(), nullptr, p + 1, key.data());
  out.resize(1 + kNonceBytes + written);
  return out;
}

absl::StatusOr<std::string> Open(const SecretKey& key, absl::string_view sealed,
                                 absl::string_view associated_data) {
  if (sealed.size() < 1 + kNonceBytes + kTagBytes ||
      static_cast<unsigned char>(sealed[0]) != kSealVersion) {
    return absl::DataLossError("sealed value is malformed");
  }
  const unsigned char* nonce = U(sealed) + 1;
  absl::string_view ciphertext = sealed.substr(1 + kNonceBytes);
  std::string out(ciphertext.size() - kTagBytes, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &written, nullptr,
          U(ciphertext), ciphertext.size(), U(associated_data),
          associated_data.size(), nonce, key.data()) != 0) {
    return absl::DataLossError("sealed value failed authentication");
  }
  out.resize(written);
  return out;
}

std::string Hash(absl::string_view data) {
  std::string out(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     U(data), data.size(), nullptr, 0);
  return out;
}

std::string Sha256(absl::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), U(data), data.size());
  return out;
}

bool VerifySignature(absl::string_view public_key, absl::string_view message,
                     absl::string_view signature) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES ||
      signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(U(signature), U(message), message.size(),
                                     U(public_key)) == 0;
}

absl::StatusOr<std::string> HashPassword(absl::string_view password, PasswordCost cost) {
  char out[crypto_pwhash_STRBYTES];
  unsigned long long ops = cost == PasswordCost::kModerate ? crypto_pwhash_OPSLIMIT_MODERATE
                                                           : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  size_t mem = cost == PasswordCost::kModerate ? crypto_pwhash_MEMLIMIT_MODERATE
                                               : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError("not enough memory to hash the password");
  }
  return std::string(out);
}

bool VerifyPassword(absl::string_view hash, absl::string_view password) {
  std::string h(hash);  // needs a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

std::string RandomToken(size_t n) {
  std::string raw(n, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out;
  absl::WebSafeBase64Escape(raw, &out);
  sodium_memzero(raw.data(), raw.size());
  return out;
}

absl::StatusOr<std::unique_ptr<KeyRing>> KeyRing::LoadFromFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read master key file ", path, ": ", std::strerror(errno)));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "master key file ", path,
        " is accessible by group or others; run: chmod 600 ", path));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string raw;
  std::string body(absl::StripAsciiWhitespace(text.str()));
  if (!absl::Base64Unescape(body, &raw) || raw.size() != kKeyBytes) {
    sodium_memzero(raw.data(), raw.size());
    return absl::FailedPreconditionError(absl::StrCat(
        "master key file ", path, " must hold the base64 of exactly 32 bytes"));
  }
  SecretKey master;
  std::memcpy(master.data(), raw.data(), kKeyBytes);
  sodium_memzero(raw.data(), raw.size());
  sodium_memzero(body.data(), body.size());
  return FromKey(master);
}

absl::Status KeyRing::CreateKeyFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create master key file ", path, ": ", std::strerror(errno)));
  }
  SecretKey key = SecretKey::Random();
  std::string text = absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(key.data()), kKeyBytes));
  text.push_back('\n');
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  close(fd);
  sodium_memzero(text.data(), text.size());
  if (!ok) return absl::InternalError(absl::StrCat("cannot write master key file ", path));
  return absl::OkStatus();
}

std::unique_ptr<KeyRing> KeyRing::FromKey(const SecretKey& master) {
  std::unique_ptr<KeyRing> ring(new KeyRing());
  crypto_kdf_derive_from_key(ring->wrap_key_.data(), kKeyBytes, 1, "hvn-wrap", master.data());
  crypto_kdf_derive_from_key(ring->index_key_.data(), kKeyBytes, 1, "hvn-bidx", master.data());
  crypto_kdf_derive_from_key(ring->statistics_key_.data(), kKeyBytes, 1, "hvn-stat", master.data());
  if (crypto_aead_aes256gcm_is_available()) {
    SecretKey gcm_key;
    crypto_kdf_derive_from_key(gcm_key.data(), kKeyBytes, 2, "hvn-stat", master.data());
    auto* state = new crypto_aead_aes256gcm_state;
    crypto_aead_aes256gcm_beforenm(state, gcm_key.data());
    ring->statistics_gcm_ = std::shared_ptr<const void>(state, [](const void* p) {
      auto* st = static_cast<crypto_aead_aes256gcm_state*>(const_cast<void*>(p));
      sodium_memzero(st, sizeof *st);
      delete st;
    });
  }
  crypto_kdf_derive_from_key(ring->pseudonym_key_.data(), kKeyBytes, 1, "hvn-lpsn", master.data());
  SecretKey seed;
  crypto_kdf_derive_from_key(seed.data(), kKeyBytes, 1, "hvn-sign", master.data());
  crypto_sign_seed_keypair(ring->sign_public_.data(), ring->sign_secret_.data(), seed.data());
  return ring;
}

KeyRing::~KeyRing() { sodium_memzero(sign_secret_.data(), sign_secret_.size()); }

std::string KeyRing::WrapDataKey(const SecretKey& data_key, absl::string_view case_id) const {
  return Seal(wrap_key_,
              absl::string_view(reinterpret_cast<const char*>(data_key.data()), kKeyBytes),
              absl::StrCat("data-key:", case_id));
}

absl::StatusOr<SecretKey> KeyRing::UnwrapDataKey(absl::string_view wrapped,
                                                 absl::string_view case_id) const {
  absl::StatusOr<std::string> raw = Open(wrap_key_, wrapped, absl::StrCat("data-key:", case_id));
  if (!raw.ok()) return raw.status();
  if (raw->size() != kKeyBytes) return absl::DataLossError("data key has the wrong size");
  SecretKey key;
  std::memcpy(key.data(), raw->data(), kKeyBytes);
  sodium_memzero(raw->data(), raw->size());
  return key;
}

std::string KeyRing::LiaisonPseudonym(absl::string_view agency_id,
                                     absl::string_view raw_case_id) const {
  std::string out(16, '\0');
  crypto_generichash_state state;
  crypto_generichash_init(&state, pseudonym_key_.data(), kKeyBytes, out.size());
  // Length-framed, so that no two (agency, case) pairs give the same input.
  std::string framed = absl::StrCat(agency_id.size(), ":", agency_id, ":");
  crypto_generichash_update(&state, U(framed), framed.size());
  crypto_generichash_update(&state, U(raw_case_id), raw_case_id.size());
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}

std::string KeyRing::BlindIndex(absl::string_view domain, absl::string_view token) const {
  std::string out(16, '\0');
  crypto_generichash_state state;
  crypto_generichash_init(&state, index_key_.data(), kKeyBytes, out.size());
  std::string framed = absl::StrCat(domain.size(), ":", domain, ":");
  crypto_generichash_update(&state, U(framed), framed.size());
  crypto_generichash_update(&state, U(token), token.size());
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}

std::string KeyRing::SealStatistics(absl::string_view plaintext,
                                    absl::string_view associated_data) const {
  if (statistics_gcm_ == nullptr) return Seal(statistics_key_, plaintext, associated_data);
  const auto* state = static_cast<const crypto_aead_aes256gcm_state*>(statistics_gcm_.get());
  std::string out(1 + kGcmNonceBytes + plaintext.size() + kGcmTagBytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kGcmSealVersion;
  randombytes_buf(p + 1, kGcmNonceBytes);
  unsigned long long written = 0;
  crypto_aead_aes256gcm_encrypt_afternm(p + 1 + kGcmNonceBytes, &written, U(plaintext),
                                        plaintext.size(), U(associated_data),
                                        associated_data.size(), nullptr, p + 1, state);
  out.resize(1 + kGcmNonceBytes + written);
  return out;
}

absl::Status KeyRing::OpenStatisticsInto(absl::string_view sealed,
                                         absl::string_view associated_data,
                                         std::string* out) const {
  if (!sealed.empty() && static_cast<unsigned char>(sealed[0]) == kGcmSealVersion) {
    if (statistics_gcm_ == nullptr) {
      return absl::FailedPreconditionError(
          "statistics sealed with AES-256-GCM need a CPU with AES instructions");
    }
    if (sealed.size() < 1 + kGcmNonceBytes + kGcmTagBytes) {
      return absl::DataLossError("sealed value is malformed");
    }
    const auto* state = static_cast<const crypto_aead_aes256gcm_state*>(statistics_gcm_.get());
    absl::string_view ciphertext = sealed.substr(1 + kGcmNonceBytes);
    out->resize(ciphertext.size() - kGcmTagBytes);
    unsigned long long written = 0;
    if (crypto_aead_aes256gcm_decrypt_afternm(
            reinterpret_cast<unsigned char*>(out->data()), &written, nullptr, U(ciphertext),
            ciphertext.size(), U(associated_data), associated_data.size(), U(sealed) + 1,
            state) != 0) {
      return absl::DataLossError("sealed value failed authentication");
    }
    out->resize(written);
    return absl::OkStatus();
  }
  if (sealed.size() < 1 + kNonceBytes + kTagBytes ||
      static_cast<unsigned char>(sealed[0]) != kSealVersion) {
    return absl::DataLossError("sealed value is malformed");
  }
  const unsigned char* nonce = U(sealed) + 1;
  absl::string_view ciphertext = sealed.substr(1 + kNonceBytes);
  out->resize(ciphertext.size() - kTagBytes);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out->data()), &written, nullptr, U(ciphertext),
          ciphertext.size(), U(associated_data), associated_data.size(), nonce,
          statistics_key_.data()) != 0) {
    return absl::DataLossError("sealed value failed authentication");
  }
  out->resize(written);
  return absl::OkStatus();
}

absl::StatusOr<std::string> KeyRing::OpenStatistics(absl::string_view sealed,
                                                    absl::string_view associated_data) const {
  std::string out;
  if (absl::Status s = OpenStatisticsInto(sealed, associated_data, &out); !s.ok()) return s;
  return out;
}

std::string KeyRing::Sign(absl::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr, U(message),
                       message.size(), sign_secret_.data());
  return sig;
}

std::string KeyRing::public_key() const {
  return std::string(reinterpret_cast<const char*>(sign_public_.data()), sign_public_.size());
}

}  // namespace haven::crypto
