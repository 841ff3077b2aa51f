// Haven's cryptography, all of it from libsodium: where keys come from
// (KeySource), the master key and the keys derived from it, wrap-key epochs, per-case data keys, sealing of personal data with
// XChaCha20-Poly1305, blind indexes, audit checkpoint signatures, password
// and token hashing.
#ifndef HAVEN_STORAGE_CRYPTO_H_
#define HAVEN_STORAGE_CRYPTO_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
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

// Bytes in sodium_malloc'd memory (guard pages, locked against swapping
// where the system allows), wiped when freed. For key material read from
// files.
class LockedBytes {
 public:
  explicit LockedBytes(size_t size);
  ~LockedBytes();
  LockedBytes(const LockedBytes&) = delete;
  LockedBytes& operator=(const LockedBytes&) = delete;
  unsigned char* data() { return data_; }
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  absl::string_view view() const {
    return absl::string_view(reinterpret_cast<const char*>(data_), size_);
  }

 private:
  unsigned char* data_;
  size_t size_;
};

// Reads a key file safely: opened with O_NOFOLLOW, checked on the open
// descriptor (a regular file, owned by this process's user, not readable
// by group or others), read into locked memory. FAILED_PRECONDITION, naming
// `what` and `path` and saying what to fix; never the key's bytes.
absl::StatusOr<std::unique_ptr<LockedBytes>> ReadKeyFile(const std::string& path,
                                                        absl::string_view what);
// As ReadKeyFile, for a file holding the base64 of exactly 32 bytes.
absl::StatusOr<SecretKey> ReadBase64KeyFile(const std::string& path, absl::string_view what);
// Writes `contents` to `path` whole or not at all: a new file of mode 0600
// beside it, synced, then renamed over it, and the directory synced.
absl::Status ReplaceKeyFile(const std::string& path, absl::string_view contents);

// A wrap key's epoch. Epoch 1 is derived from the master key alone; every
// later one from the master key and a random secret of its own, so that
// destroying the secret makes what it wrapped unreadable even to the
// master key's holder.
struct WrapEpoch {
  uint32_t number = 1;
  SecretKey secret;             // unused for epoch 1
  int64_t retired_micros = 0;   // when its keys were all re-wrapped; 0: in use
};

// Where the master key, the audit signing key and the wrap-key epochs come
// from: files today, a KMS or HSM later.
class KeySource {
 public:
  virtual ~KeySource() = default;
  virtual absl::StatusOr<SecretKey> MasterKey() const = 0;
  // The Ed25519 seed of the audit signing key.
  virtual absl::StatusOr<SecretKey> AuditSigningSeed() const = 0;
  // The epochs still held, oldest first; empty when only epoch 1 exists
  // (no rotation yet).
  virtual absl::StatusOr<std::vector<WrapEpoch>> WrapEpochs() const = 0;
  // Replaces the epochs held, atomically; an epoch left out is destroyed.
  virtual absl::Status SaveWrapEpochs(const std::vector<WrapEpoch>& epochs) = 0;
};

// The keys in files (ReadKeyFile's checks on each). An empty epochs path
// means epoch 1 only; saving epochs then fails.
class FileKeySource : public KeySource {
 public:
  FileKeySource(std::string master_key_file, std::string audit_signing_key_file,
                std::string wrap_keys_file);
  absl::StatusOr<SecretKey> MasterKey() const override;
  absl::StatusOr<SecretKey> AuditSigningSeed() const override;
  absl::StatusOr<std::vector<WrapEpoch>> WrapEpochs() const override;
  absl::Status SaveWrapEpochs(const std::vector<WrapEpoch>& epochs) override;

 private:
  std::string master_key_file_;
  std::string audit_signing_key_file_;
  std::string wrap_keys_file_;
};

// Which kind of record a data key belongs to: each wraps under its own
// associated-data domain, so one cannot be passed off as the other.
enum class KeyDomain { kCase, kContact };

// A data key sealed under a wrap-key epoch (v1::WrappedKey's fields).
struct WrappedDataKey {
  uint32_t epoch = 1;
  // 0: bound to "data-key:<id>" (written before domains); 2: to the domain.
  uint32_t associated_data_version = 2;
  std::string sealed;
};

// The master key, the audit signing key, the wrap-key epochs and what is
// derived from them. Thread-safe after creation.
class KeyRing {
 public:
  // Everything from `source`; FAILED_PRECONDITION as the source says.
  static absl::StatusOr<std::unique_ptr<KeyRing>> Load(const KeySource& source);
  static std::unique_ptr<KeyRing> FromKeys(const SecretKey& master, const SecretKey& audit_seed,
                                           const std::vector<WrapEpoch>& epochs);
  // For tests: epoch 1 only, and an audit signing key derived from the
  // master key (as before audit keys had files of their own).
  static std::unique_ptr<KeyRing> FromKey(const SecretKey& master);
  // Writes a fresh random 32-byte key (base64) to a new file of mode 0600.
  static absl::Status CreateKeyFile(const std::string& path);
  ~KeyRing();

  // A data key sealed under the newest epoch, bound to its domain and the
  // record's raw id.
  WrappedDataKey WrapDataKey(const SecretKey& data_key, KeyDomain domain,
                             absl::string_view raw_id) const;
  // DATA_LOSS when altered or bound to another record or domain;
  // FAILED_PRECONDITION when its epoch is not held (destroyed, or a
  // wrap_keys_file from before it was made).
  absl::StatusOr<SecretKey> UnwrapDataKey(const WrappedDataKey& wrapped, KeyDomain domain,
                                          absl::string_view raw_id) const;
  uint32_t newest_epoch() const { return wrap_keys_.rbegin()->first; }
  bool holds_epoch(uint32_t epoch) const { return wrap_keys_.count(epoch) > 0; }

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
  // The public key of the audit signing key derived from the master key,
  // which signed checkpoints before version 2: checked for those only.
  std::string legacy_public_key() const;

 private:
  KeyRing() = default;
  SecretKey index_key_;
  SecretKey statistics_key_;
  // AES-256-GCM's expanded statistics key; null without AES instructions.
  std::shared_ptr<const void> statistics_gcm_;
  SecretKey pseudonym_key_;
  std::map<uint32_t, SecretKey> wrap_keys_;  // by epoch; never empty
  std::unique_ptr<LockedBytes> sign_secret_;  // Ed25519, 64 bytes
  std::array<unsigned char, 32> sign_public_{};
  std::array<unsigned char, 32> legacy_sign_public_{};
};
}  // namespace haven::crypto

#endif  // HAVEN_STORAGE_CRYPTO_H_
