// Authenticator: credentials and declared purpose to a RequestContext.
#include "services/common/authenticator.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "storage/access/case_door.h"
#include "storage/crypto.h"
#include "storage/ids.h"

namespace haven::services {
namespace {

std::string Metadata(const grpc::ServerContext* context, const char* key) {
  auto [begin, end] = context->client_metadata().equal_range(key);
  if (begin == end) return "";
  return std::string(begin->second.data(), begin->second.size());
}

bool IsValidRequestId(absl::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

// SHA-256 of the DER encoding of the peer's verified client certificate.
absl::StatusOr<std::string> PeerCertificateSha256(const grpc::AuthContext& auth) {
  std::vector<grpc::string_ref> pems = auth.FindPropertyValues("x509_pem_cert");
  if (pems.empty()) return absl::UnauthenticatedError("no client certificate was presented");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pems[0].data(), static_cast<int>(pems[0].size())), &BIO_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return absl::UnauthenticatedError("the client certificate cannot be read");
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return absl::UnauthenticatedError("the client certificate cannot be encoded");
  std::string digest = crypto::Sha256(absl::string_view(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  return digest;
}

}  // namespace

absl::StatusOr<access::RequestContext> Authenticator::Anonymous(grpc::ServerContext* context) {
  access::RequestContext ctx;
  std::string request_id = Metadata(context, kRequestIdHeader);
  ctx.request_id = IsValidRequestId(request_id) ? request_id : NewId();
  std::string purpose = Metadata(context, kPurposeHeader);
  if (purpose.empty()) {
    ctx.purpose = access::kNoDeclaredPurpose;
  } else if (access::IsValidPurpose(purpose)) {
    ctx.purpose = purpose;
  } else {
    return absl::InvalidArgumentError(
        "x-haven-purpose must be a token of 1 to 64 characters [a-z0-9_-], starting with a letter");
  }
  return ctx;
}

absl::StatusOr<access::RequestContext> Authenticator::Authenticate(grpc::ServerContext* context,
                                                                   Session session) const {
  absl::StatusOr<access::RequestContext> ctx = AuthenticateAny(context, session);
  // Its own account's housekeeping (WhoAmI) touches no case and stays open.
  if (ctx.ok() && session == Session::kFull && ctx->principal.service_account &&
      ctx->principal.organisation_type == haven::v1::ORGANISATION_TYPE_LAW_ENFORCEMENT) {
    return absl::PermissionDeniedError(
        "a law-enforcement system reaches cases only through LiaisonService");
  }
  return ctx;
}

absl::StatusOr<access::RequestContext> Authenticator::AuthenticateLiaison(
    grpc::ServerContext* context) const {
  return AuthenticateAny(context, Session::kFull);
}

absl::StatusOr<access::RequestContext> Authenticator::AuthenticateAny(grpc::ServerContext* context,
                                                                      Session session) const {
  absl::StatusOr<access::RequestContext> ctx = Anonymous(context);
  if (!ctx.ok()) return ctx.status();
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  absl::StatusOr<access::Principal> principal;
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    absl::StatusOr<std::string> digest = PeerCertificateSha256(*auth);
    if (!digest.ok()) return digest.status();
    principal = accounts_->AuthenticateCertificate(*digest);
  } else {
    std::string header = Metadata(context, "authorization");
    constexpr absl::string_view kBearer = "Bearer ";
    if (!absl::StartsWith(header, kBearer)) {
      return absl::UnauthenticatedError(
          "missing credentials: send \"authorization: Bearer <token>\" with a token from "
          "AdminService.Login");
    }
    principal = accounts_->AuthenticateToken(absl::string_view(header).substr(kBearer.size()));
  }
  if (!principal.ok()) return principal.status();
  if (principal->password_change_required && session == Session::kFull) {
    return absl::FailedPreconditionError(
        "this session logged in with a one-time password: change it with "
        "AdminService.ChangePassword first");
  }
  ctx->principal = *std::move(principal);
  return ctx;
}

absl::StatusOr<access::RequestContext> Authenticator::AuthenticatePartner(
    grpc::ServerContext* context) const {
  absl::StatusOr<access::RequestContext> ctx = Anonymous(context);
  if (!ctx.ok()) return ctx.status();
  std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
  if (partners_ == nullptr || auth == nullptr) {
    return absl::UnauthenticatedError("this mechanism has no partners");
  }
  absl::StatusOr<std::string> partner = partners_->Identify(*auth);
  if (!partner.ok()) return partner.status();
  ctx->principal.id = "partner/" + *partner;
  ctx->principal.partner_id = *std::move(partner);
  return ctx;
}

}  // namespace haven::services
