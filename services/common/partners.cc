// Partners: configured partner mechanisms and their certificates.
#include "services/common/partners.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "storage/crypto.h"

namespace haven::services {

// One partner's CA as an OpenSSL certificate store that trusts it alone.
struct Partners::Trust {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store{X509_STORE_new(),
                                                                  &X509_STORE_free};
};

namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr ParsePem(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
}

// Whether `leaf` chains to the one CA in `store`, now.
bool SignedBy(X509_STORE* store, X509* leaf) {
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      &X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, leaf, nullptr) != 1) return false;
  return X509_verify_cert(ctx.get()) == 1;
}

// Whether the certificate names client authentication among its extended
// key usages (a certificate without the extension does not).
bool ForClientAuth(X509* cert) {
  return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0 &&
         (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) != 0;
}

// Lower-case hex SHA-256 of the certificate's DER SubjectPublicKeyInfo;
// empty when it cannot be encoded.
std::string PublicKeySha256(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return "";
  std::string digest = crypto::Sha256(absl::string_view(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  return absl::BytesToHexString(digest);
}

}  // namespace

std::string PublicKeySha256FromPem(absl::string_view pem) {
  X509Ptr cert = ParsePem(pem);
  return cert ? PublicKeySha256(cert.get()) : "";
}

Partners::~Partners() = default;

absl::StatusOr<std::unique_ptr<Partners>> Partners::Load(
    const google::protobuf::RepeatedPtrField<haven::v1::PartnerConfig>& configs) {
  std::unique_ptr<Partners> partners(new Partners());
  for (const haven::v1::PartnerConfig& config : configs) {
    std::ifstream in(config.ca_file());
    std::stringstream pem;
    pem << in.rdbuf();
    X509Ptr ca = ParsePem(pem.str());
    if (!in || !ca) {
      return absl::FailedPreconditionError(absl::StrCat(
          "partner ", config.id(), ": cannot read a PEM certificate from ", config.ca_file()));
    }
    auto trust = std::make_unique<Trust>();
    if (!trust->store || X509_STORE_add_cert(trust->store.get(), ca.get()) != 1) {
      return absl::InternalError(absl::StrCat("partner ", config.id(), ": cannot trust its CA"));
    }
    partners->configs_.push_back(config);
    partners->ca_pems_.push_back(pem.str());
    partners->trusts_.push_back(std::move(trust));
  }
  return partners;
}

const haven::v1::PartnerConfig* Partners::Find(absl::string_view id) const {
  for (const haven::v1::PartnerConfig& config : configs_) {
    if (config.id() == id) return &config;
  }
  return nullptr;
}

const std::string& Partners::CaPem(absl::string_view id) const {
  static const std::string kNone;
  for (size_t i = 0; i < configs_.size(); ++i) {
    if (configs_[i].id() == id) return ca_pems_[i];
  }
  return kNone;
}

std::string Partners::AllCaPem() const {
  std::string all;
  for (const std::string& pem : ca_pems_) absl::StrAppend(&all, pem, "\n");
  return all;
}

absl::StatusOr<std::string> Partners::Identify(const grpc::AuthContext& auth) const {
  std::vector<grpc::string_ref> pems = auth.FindPropertyValues("x509_pem_cert");
  if (!auth.IsPeerAuthenticated() || pems.empty()) {
    return absl::UnauthenticatedError("partner calls need the partner's client certificate");
  }
  X509Ptr leaf = ParsePem(absl::string_view(pems[0].data(), pems[0].size()));
  // A partner is its CA's signature on a client certificate that holds one
  // of the partner's pinned public keys: another certificate from the same
  // CA is not the partner.
  if (leaf && ForClientAuth(leaf.get())) {
    const std::string key = PublicKeySha256(leaf.get());
    for (size_t i = 0; i < configs_.size(); ++i) {
      const auto& pins = configs_[i].public_key_sha256();
      if (std::find(pins.begin(), pins.end(), key) != pins.end() &&
          SignedBy(trusts_[i]->store.get(), leaf.get())) {
        return configs_[i].id();
      }
    }
  }
  return absl::UnauthenticatedError("this certificate belongs to no partner mechanism");
}

}  // namespace haven::services
