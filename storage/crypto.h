// Haven's cryptography, all of it from libsodium: the master key and the
// keys derived from it, per-case data keys, sealing of personal data with
// XChaCha20-Poly1305, blind indexes, audit checkpoint signatures, password
// and token hashing.
#ifndef HAVEN_STORAGE_CRYPTO_H_
#define HAVEN_STORAGE_CRYPTO_H_

#include <array>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace haven::crypto {

// Call once before anything else here; safe to call again.
absl::Status Init();

inline constexpr size_t kKeyBytes = 32;

// A 256-bit symmetric key, wiped when destroyed.
class SecretKey {
 public:
  SecretKey();
  ~SecretKey();
  SecretKey(const SecretKey&);
  SecretKey& operator=(const SecretKey&);
  static SecretKey Random();
  unsigned char* data() { return bytes_.data(); }
  const unsigned char* data() const { return bytes_.data(); }

 private:
  std::array<unsigned char, kKeyBytes> bytes_;
};

// Seals `plaintext` with `key`, binding `associated_data` (the record's key):
// version byte, 24-byte random nonce, ciphertext and tag.
std::string Seal(const SecretKey& key, absl::string_view plaintext,
                 absl::string_view associated_data);
// DATA_LOSS when the value was altered, moved to another record, or sealed
// with another key.
absl::StatusOr<std::string> Open(const SecretKey& key, absl::string_view sealed,
                                 absl::string_view associated_data);

// BLAKE2b-256 of `data`, unkeyed.
std::string Hash(absl::string_view data);
// SHA-256, for session tokens and certificate fingerprints.
std::string Sha256(absl::string_view data);

// Ed25519 verification against a 32-byte public key.
bool VerifySignature(absl::string_view public_key, absl::string_view message,
                     absl::string_view signature);

// Argon2id hash in libsodium's string format.
enum class PasswordCost { kInteractive, kModerate };
absl::StatusOr<std::string> HashPassword(absl::string_view password, PasswordCost cost);
bool VerifyPassword(absl::string_view hash, absl::string_view password);

// `n` random bytes, URL-safe base64 without padding.
std::string RandomToken(size_t n);

// The master key and what is derived from it. Thread-safe after creation.
class KeyRing {
 public:
  // Reads a key file: base64 of 32 bytes. FAILED_PRECONDITION when the file
  // can be read by group or others.
  static absl::StatusOr<std::unique_ptr<KeyRing>> LoadFromFile(const std::string& path);
  // Writes a fresh master key to a new file of mode 0600.
  static absl::Status CreateKeyFile(const std::string& path);
  static std::unique_ptr<KeyRing> FromKey(const SecretKey& master);
  ~KeyRing();

  // A case's data key sealed with the master key, bound to the case id.
  std::string WrapDataKey(const SecretKey& data_key, absl::string_view case_id) const;
  absl::StatusOr<SecretKey> UnwrapDataKey(absl::string_view wrapped,
                                          absl::string_view case_id) const;

  // Keyed BLAKE2b of a normalized token within a domain ("name", "phone"),
  // 16 bytes: equal inputs match, and nothing can be learnt without the key.
  std::string BlindIndex(absl::string_view domain, absl::string_view token) const;

  // A law-enforcement agency's pseudonym for a case: keyed BLAKE2b, 16
  // bytes, under a key of its own derived from the master key, of the
  // agency's and the case's ids. Deterministic (stable across restarts),
  // different for every agency, and it reveals nothing of the case id.
  std::string LiaisonPseudonym(absl::string_view agency_id, absl::string_view raw_case_id) const;

  // Sealing with the statistics key: for what outlives a case's erasure.
  // Where the CPU has AES instructions, AES-256-GCM under a key derived for
  // it (version byte 2: statistics are read a million at a time, and this
  // opens several times faster); otherwise, and for values sealed before,
  // XChaCha20-Poly1305 (version byte 1). Both are opened.
  std::string SealStatistics(absl::string_view plaintext, absl::string_view associated_data) const;
  absl::StatusOr<std::string> OpenStatistics(absl::string_view sealed,
                                             absl::string_view associated_data) const;
  // As OpenStatistics, into *out (reusing its buffer): for scans of many.
  absl::Status OpenStatisticsInto(absl::string_view sealed, absl::string_view associated_data,
                                  std::string* out) const;

  // Ed25519 signature with the audit signing key.
  std::string Sign(absl::string_view message) const;
  std::string public_key() const;

 private:
  KeyRing() = default;
  SecretKey wrap_key_;
  SecretKey index_key_;
  SecretKey statistics_key_;
  // AES-256-GCM's expanded statistics key; null without AES instructions.
  std::shared_ptr<const void> statistics_gcm_;
  SecretKey pseudonym_key_;
  std::array<unsigned char, 64> sign_secret_{};
  std::array<unsigned char, 32> sign_public_{};
};

}  // namespace haven::crypto

#endif  // HAVEN_STORAGE_CRYPTO_H_
