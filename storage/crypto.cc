// Haven's cryptography, all of it from libsodium.
#include "storage/crypto.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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

LockedBytes::LockedBytes(size_t size)
    : data_(static_cast<unsigned char*>(sodium_malloc(size == 0 ? 1 : size))), size_(size) {
  if (data_ == nullptr) std::abort();  // out of memory: nothing safe to do
}

LockedBytes::~LockedBytes() { sodium_free(data_); }  // wipes

namespace {

// The most a key file may hold: a handful of epochs in base64.
constexpr off_t kMaxKeyFileBytes = 64 << 10;

absl::Status KeyFileProblem(absl::string_view what, const std::string& path,
                            absl::string_view problem) {
  return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " ", problem));
}

// Decodes base64 of exactly 32 bytes into a key, through locked memory.
bool DecodeKey(absl::string_view base64, SecretKey* key) {
  LockedBytes raw(kKeyBytes + 8);
  size_t written = 0;
  if (sodium_base642bin(raw.data(), raw.size(), base64.data(), base64.size(), " \t\r\n",
                        &written, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      written != kKeyBytes) {
    return false;
  }
  std::memcpy(key->data(), raw.data(), kKeyBytes);
  return true;
}

std::string EncodeKey(const SecretKey& key) {
  std::string out(sodium_base64_ENCODED_LEN(kKeyBytes, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), key.data(), kKeyBytes, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// Epoch n's wrap key (n >= 2): keyed BLAKE2b, under epoch 1's key (derived
// from the master key), of the epoch's number and secret.
SecretKey DeriveEpochKey(const SecretKey& epoch1, uint32_t number, const SecretKey& secret) {
  std::string input = "haven-wrap-epoch-v2";
  for (int shift = 24; shift >= 0; shift -= 8) input.push_back(static_cast<char>(number >> shift));
  input.append(reinterpret_cast<const char*>(secret.data()), kKeyBytes);
  SecretKey key;
  crypto_generichash(key.data(), kKeyBytes, U(input), input.size(), epoch1.data(), kKeyBytes);
  sodium_memzero(input.data(), input.size());
  return key;
}

std::string WrapAssociatedData(KeyDomain domain, uint32_t version, absl::string_view raw_id) {
  if (version == 0) return absl::StrCat("data-key:", raw_id);
  return absl::StrCat(domain == KeyDomain::kCase ? "haven-case-key-v2|" : "haven-contact-key-v2|",
                      raw_id);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LockedBytes>> ReadKeyFile(const std::string& path,
                                                        absl::string_view what) {
  if (path.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what, " is not configured"));
  }
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ELOOP) return KeyFileProblem(what, path, "is a symbolic link; name the file itself");
    return KeyFileProblem(what, path, absl::StrCat("cannot be opened: ", std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return KeyFileProblem(what, path, absl::StrCat("cannot be examined: ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return KeyFileProblem(what, path, "is not a regular file");
  if (st.st_uid != geteuid()) {
    return KeyFileProblem(what, path,
                          absl::StrCat("is owned by uid ", st.st_uid, ", not by havend's uid ",
                                       geteuid(), "; run: chown ", geteuid(), " ", path));
  }
  if ((st.st_mode & 077) != 0) {
    return KeyFileProblem(what, path, absl::StrCat("is accessible by group or others; run: chmod 600 ",
                                                   path));
  }
  if (st.st_size > kMaxKeyFileBytes) return KeyFileProblem(what, path, "is too large for a key file");
  auto bytes = std::make_unique<LockedBytes>(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes->size()) {
    ssize_t n = read(fd, bytes->data() + got, bytes->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return KeyFileProblem(what, path, "could not be read whole");
    got += static_cast<size_t>(n);
  }
  return bytes;
}

absl::StatusOr<SecretKey> ReadBase64KeyFile(const std::string& path, absl::string_view what) {
  absl::StatusOr<std::unique_ptr<LockedBytes>> bytes = ReadKeyFile(path, what);
  if (!bytes.ok()) return bytes.status();
  SecretKey key;
  if (!DecodeKey((*bytes)->view(), &key)) {
    return KeyFileProblem(what, path, "must hold the base64 of exactly 32 bytes");
  }
  return key;
}

absl::Status ReplaceKeyFile(const std::string& path, absl::string_view contents) {
  const std::string temporary = path + ".new";
  unlink(temporary.c_str());  // a leftover of an interrupted replacement
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", temporary, ": ", std::strerror(errno)));
  }
  bool ok = write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size()) &&
            fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  ok = ok && rename(temporary.c_str(), path.c_str()) == 0;
  if (!ok) {
    unlink(temporary.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  std::string directory = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  if (directory.empty()) directory = "/";
  int dir = open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return absl::OkStatus();
}

FileKeySource::FileKeySource(std::string master_key_file, std::string audit_signing_key_file,
                             std::string wrap_keys_file)
    : master_key_file_(std::move(master_key_file)),
      audit_signing_key_file_(std::move(audit_signing_key_file)),
      wrap_keys_file_(std::move(wrap_keys_file)) {}

absl::StatusOr<SecretKey> FileKeySource::MasterKey() const {
  return ReadBase64KeyFile(master_key_file_, "master key file");
}

absl::StatusOr<SecretKey> FileKeySource::AuditSigningSeed() const {
  if (audit_signing_key_file_.empty()) {
    return absl::FailedPreconditionError(
        "audit_signing_key_file is not configured: the audit chain needs a signing key of its "
        "own; create one with havend init and set audit_signing_key_file");
  }
  return ReadBase64KeyFile(audit_signing_key_file_, "audit signing key file");
}

// The wrap keys file: one line per epoch still held, oldest first:
//   <epoch> <base64 secret, or "-" for epoch 1> <retired, Unix microseconds; 0: in use>
absl::StatusOr<std::vector<WrapEpoch>> FileKeySource::WrapEpochs() const {
  std::vector<WrapEpoch> epochs;
  if (wrap_keys_file_.empty()) return epochs;
  if (access(wrap_keys_file_.c_str(), F_OK) != 0 && errno == ENOENT) return epochs;
  absl::StatusOr<std::unique_ptr<LockedBytes>> bytes = ReadKeyFile(wrap_keys_file_, "wrap keys file");
  if (!bytes.ok()) return bytes.status();
  absl::string_view text = (*bytes)->view();
  while (!text.empty()) {
    size_t end = text.find('\n');
    absl::string_view line = text.substr(0, end);
    text = end == absl::string_view::npos ? absl::string_view() : text.substr(end + 1);
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    WrapEpoch epoch;
    bool ok = fields.size() == 3 && absl::SimpleAtoi(fields[0], &epoch.number) &&
              epoch.number >= 1 && absl::SimpleAtoi(fields[2], &epoch.retired_micros) &&
              (epochs.empty() || epoch.number > epochs.back().number) &&
              (epoch.number == 1 ? fields[1] == "-" : DecodeKey(fields[1], &epoch.secret));
    if (!ok) {
      return KeyFileProblem("wrap keys file", wrap_keys_file_,
                            absl::StrCat("is malformed at its line ", epochs.size() + 1,
                                         "; expected \"<epoch> <base64 secret> <retired micros>\" "
                                         "in increasing epochs"));
    }
    epochs.push_back(std::move(epoch));
  }
  return epochs;
}

absl::Status FileKeySource::SaveWrapEpochs(const std::vector<WrapEpoch>& epochs) {
  if (wrap_keys_file_.empty()) {
    return absl::FailedPreconditionError(
        "wrap_keys_file is not configured; set it (mode 0600, outside data_dir) to rotate keys");
  }
  std::string text;
  for (const WrapEpoch& epoch : epochs) {
    std::string secret = epoch.number == 1 ? "-" : EncodeKey(epoch.secret);
    absl::StrAppend(&text, epoch.number, " ", secret, " ", epoch.retired_micros, "\n");
    sodium_memzero(secret.data(), secret.size());
  }
  absl::Status s = ReplaceKeyFile(wrap_keys_file_, text);
  sodium_memzero(text.data(), text.size());
  return s;
}

absl::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Load(const KeySource& source) {
  absl::StatusOr<SecretKey> master = source.MasterKey();
  if (!master.ok()) return master.status();
  absl::StatusOr<SecretKey> seed = source.AuditSigningSeed();
  if (!seed.ok()) return seed.status();
  if (sodium_memcmp(master->data(), seed->data(), kKeyBytes) == 0) {
    return absl::FailedPreconditionError(
        "the audit signing key file holds the master key; give the audit its own key "
        "(havend init creates one when the file is missing)");
  }
  absl::StatusOr<std::vector<WrapEpoch>> epochs = source.WrapEpochs();
  if (!epochs.ok()) return epochs.status();
  return FromKeys(*master, *seed, *epochs);
}

absl::Status KeyRing::CreateKeyFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create key file ", path, ": ", std::strerror(errno)));
  }
  std::string text = EncodeKey(SecretKey::Random());
  text.push_back('\n');
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            fsync(fd) == 0;
  close(fd);
  sodium_memzero(text.data(), text.size());
  if (!ok) return absl::InternalError(absl::StrCat("cannot write key file ", path));
  return absl::OkStatus();
}

std::unique_ptr<KeyRing> KeyRing::FromKey(const SecretKey& master) {
  SecretKey seed;
  crypto_kdf_derive_from_key(seed.data(), kKeyBytes, 1, "hvn-sign", master.data());
  return FromKeys(master, seed, {});
}

std::unique_ptr<KeyRing> KeyRing::FromKeys(const SecretKey& master, const SecretKey& audit_seed,
                                           const std::vector<WrapEpoch>& epochs) {
  std::unique_ptr<KeyRing> ring(new KeyRing());
  SecretKey epoch1;
  crypto_kdf_derive_from_key(epoch1.data(), kKeyBytes, 1, "hvn-wrap", master.data());
  if (epochs.empty()) ring->wrap_keys_.emplace(1, epoch1);
  for (const WrapEpoch& epoch : epochs) {
    ring->wrap_keys_.emplace(epoch.number, epoch.number == 1
                                               ? epoch1
                                               : DeriveEpochKey(epoch1, epoch.number, epoch.secret));
  }
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
  ring->sign_secret_ = std::make_unique<LockedBytes>(crypto_sign_SECRETKEYBYTES);
  crypto_sign_seed_keypair(ring->sign_public_.data(), ring->sign_secret_->data(), audit_seed.data());
  {
    SecretKey legacy_seed;
    crypto_kdf_derive_from_key(legacy_seed.data(), kKeyBytes, 1, "hvn-sign", master.data());
    LockedBytes legacy_secret(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(ring->legacy_sign_public_.data(), legacy_secret.data(),
                             legacy_seed.data());
  }
  return ring;
}

KeyRing::~KeyRing() = default;

WrappedDataKey KeyRing::WrapDataKey(const SecretKey& data_key, KeyDomain domain,
                                    absl::string_view raw_id) const {
  WrappedDataKey wrapped;
  wrapped.epoch = newest_epoch();
  wrapped.associated_data_version = 2;
  wrapped.sealed =
      Seal(wrap_keys_.rbegin()->second,
           absl::string_view(reinterpret_cast<const char*>(data_key.data()), kKeyBytes),
           WrapAssociatedData(domain, wrapped.associated_data_version, raw_id));
  return wrapped;
}

absl::StatusOr<SecretKey> KeyRing::UnwrapDataKey(const WrappedDataKey& wrapped, KeyDomain domain,
                                                 absl::string_view raw_id) const {
  auto wrap_key = wrap_keys_.find(wrapped.epoch == 0 ? 1 : wrapped.epoch);
  if (wrap_key == wrap_keys_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a data key is sealed under wrap-key epoch ", wrapped.epoch,
        ", which is not in wrap_keys_file (destroyed, or the file is older than the store)"));
  }
  if (wrapped.associated_data_version != 0 && wrapped.associated_data_version != 2) {
    return absl::DataLossError("a wrapped data key has an unknown associated-data version");
  }
  absl::StatusOr<std::string> raw =
      Open(wrap_key->second, wrapped.sealed,
           WrapAssociatedData(domain, wrapped.associated_data_version, raw_id));
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
                       message.size(), sign_secret_->data());
  return sig;
}

std::string KeyRing::legacy_public_key() const {
  return std::string(reinterpret_cast<const char*>(legacy_sign_public_.data()),
                     legacy_sign_public_.size());
}

std::string KeyRing::public_key() const {
  return std::string(reinterpret_cast<const char*>(sign_public_.data()), sign_public_.size());
}

}  // namespace haven::crypto
