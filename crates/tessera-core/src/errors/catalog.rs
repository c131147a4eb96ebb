//! Every catalogued error, in code order within each family. This list is the single
//! source: the `ErrorName` enum, `/errors`, `tessera explain` and `docs/errors.md` all
//! come from it. Codes are never reused or renumbered once landed; `assigned-codes.txt`
//! at the crate root pins each code's name, OAuth error and status.
//!
//! Message templates use `{placeholders}` (lowercase and `_`) and, because they become
//! `error_description`, only the characters RFC 6749 §5.2 allows (no `"` or `\`).

use super::entry::{Entry, OAuthError::*};

macro_rules! catalog {
    ($( $name:ident { $($field:ident : $value:expr),* $(,)? } )*) => {
        /// The name of each catalogued error; `ErrorName::X.entry()` is its entry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorName { $($name),* }

        /// All entries, in the order of [`ErrorName`].
        pub static CATALOG: &[Entry] = &[ $( Entry { name: stringify!($name), $($field: $value),* } ),* ];

        impl ErrorName {
            pub fn entry(self) -> &'static Entry {
                &CATALOG[self as usize]
            }
        }
    };
}

catalog! {
    // ---- request: TS10000–19999 -------------------------------------------------------
    InvalidRequestFormat {
        code: 10001, oauth_error: Some(InvalidRequest), status: 400,
        message: "The request could not be read: {detail}.",
        causes: &[
            "A required parameter is missing, or a parameter appears more than once.",
            "The body is not valid application/x-www-form-urlencoded (or JSON where JSON is expected).",
            "The Content-Type header does not match the body.",
        ],
        developer_action: "Read the detail: it names the parameter. Send each parameter exactly once, percent-encode values, and set Content-Type to application/x-www-form-urlencoded on protocol endpoints.",
        user_action: "The app sent a request Tessera cannot read. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: true,
    }
    EndpointNotFound {
        code: 10002, oauth_error: None, status: 404,
        message: "No endpoint exists at {path}.",
        causes: &[
            "A typo in the path, or a missing tenant segment (e.g. /oauth2/token instead of /contoso/oauth2/token).",
            "Endpoint URLs were typed by hand instead of taken from the discovery document.",
            "The path uses a trailing slash or letter case that Tessera does not route.",
        ],
        developer_action: "Read every endpoint URL from the tenant discovery document (the issuer URL followed by /.well-known/openid-configuration) instead of building it by hand, and check the tenant segment of the path.",
        user_action: "The link you followed does not lead anywhere. Go back to the app and try again from there.",
        retryable: false, redirectable: false,
    }
    MethodNotAllowed {
        code: 10003, oauth_error: None, status: 405,
        message: "{method} is not allowed on {path}.",
        causes: &[
            "A GET was sent to the token, revocation or introspection endpoint, which accept POST only.",
            "A form was submitted with the wrong method, or a proxy rewrote the method.",
        ],
        developer_action: "Use the method listed in the Allow header of the response: POST for the token, revocation, introspection and device authorization endpoints; GET or POST for authorize and userinfo.",
        user_action: "The app sent a request Tessera does not accept. Go back to the app and try again; if it keeps happening, contact the app's support.",
        retryable: false, redirectable: false,
    }
    RequestTooLarge {
        code: 10004, oauth_error: Some(InvalidRequest), status: 413,
        message: "The request body is larger than the {limit} bytes this endpoint accepts.",
        causes: &[
            "A very large request object, client assertion or scope list.",
            "A file or unrelated payload was posted to a protocol endpoint by mistake.",
        ],
        developer_action: "Keep request bodies under the limit: trim the scope list, shorten the client_assertion (drop unneeded claims and certificate chains), and send only the parameters the endpoint defines.",
        user_action: "The app sent more data than Tessera accepts. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    UnsupportedMediaType {
        code: 10005, oauth_error: Some(InvalidRequest), status: 415,
        message: "The content type '{content_type}' is not accepted here. Send {supported}.",
        causes: &[
            "JSON was posted to a protocol endpoint that takes application/x-www-form-urlencoded (RFC 6749 section 3.2).",
            "The Content-Type header is missing or misspelled.",
            "Form data was posted to the admin API, which takes application/json.",
        ],
        developer_action: "Set the Content-Type header: application/x-www-form-urlencoded on the token, revocation, introspection and device endpoints; application/json on the admin API.",
        user_action: "The app sent a request in a format Tessera cannot read. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    UnsupportedResponseType {
        code: 10006, oauth_error: Some(UnsupportedResponseType), status: 400,
        message: "The response_type '{value}' is not supported. Supported values: {supported}.",
        causes: &[
            "A typo in response_type, or its words joined with something other than a single space.",
            "A response type from another product (for example 'code id_token token' where only some hybrid types are served).",
            "The response_type parameter was URL-encoded twice.",
        ],
        developer_action: "Send one of the values listed in response_types_supported of the discovery document; for most apps that is response_type=code.",
        user_action: "The app asked to sign you in in a way Tessera does not support. Contact the app's support.",
        retryable: false, redirectable: true,
    }
    UnsupportedResponseMode {
        code: 10007, oauth_error: Some(UnsupportedResponseMode), status: 400,
        message: "The response_mode '{value}' is not supported. Supported values: {supported}.",
        causes: &[
            "A typo in response_mode.",
            "response_mode=query was combined with a response type that returns tokens, which must not be sent in a query string.",
            "A JARM mode (such as query.jwt) that Tessera does not serve.",
        ],
        developer_action: "Send a value from response_modes_supported in the discovery document, or omit response_mode to get the default for your response_type (query for code, fragment otherwise).",
        user_action: "The app asked to sign you in in a way Tessera does not support. Contact the app's support.",
        retryable: false, redirectable: true,
    }
    UnsupportedGrantType {
        code: 10008, oauth_error: Some(UnsupportedGrantType), status: 400,
        message: "The grant_type '{value}' is not supported. Supported values: {supported}.",
        causes: &[
            "A typo in grant_type, or a short name where the full URN is required (device_code instead of urn:ietf:params:oauth:grant-type:device_code).",
            "The password grant, which Tessera does not offer.",
            "grant_type is missing from the body because it was sent in the query string.",
        ],
        developer_action: "Send a value from grant_types_supported in the discovery document, in the POST body, spelled exactly (URN grant types in full).",
        user_action: "The app uses a sign-in method Tessera does not offer. Contact the app's support.",
        retryable: false, redirectable: false,
    }
    UnsupportedTokenType {
        code: 10009, oauth_error: Some(InvalidRequest), status: 400,
        message: "Tokens of type {token_type} cannot be revoked here. Supported types: {supported}.",
        causes: &[
            "An ID token was sent to the revocation endpoint; only access and refresh tokens can be revoked.",
            "A token issued by another server was sent for revocation.",
        ],
        developer_action: "Send only access tokens or refresh tokens issued by this tenant to the revocation endpoint, with token_type_hint set to access_token or refresh_token. To end a session, use the end_session_endpoint instead.",
        user_action: "The app could not sign you out completely. Sign out again from the app, or clear your browser's cookies for this site.",
        retryable: false, redirectable: false,
    }
    InvalidBearerToken {
        code: 10010, oauth_error: Some(InvalidToken), status: 401,
        message: "The access token is not valid; it may have been revoked, or it was not issued by this server.",
        causes: &[
            "The token was revoked, for example when the user signed out or an administrator revoked the user's sessions.",
            "The token was issued by another tenant or another server.",
            "The token is an ID token or a refresh token, not an access token.",
        ],
        developer_action: "Send access tokens only, to the API they were issued for. On this error, get a new access token with the refresh token or a new sign-in, and retry once.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    BearerTokenMissing {
        code: 10011, oauth_error: Some(InvalidToken), status: 401,
        message: "The request has no access token. Send it in the Authorization header as 'Bearer <token>'.",
        causes: &[
            "The Authorization header was not set, or a proxy stripped it.",
            "The header uses another scheme (Basic) or misspells Bearer.",
            "The token was sent in a cookie or a custom header.",
        ],
        developer_action: "Send Authorization: Bearer followed by the access token on every API call. Check that proxies and CORS preflights pass the Authorization header through.",
        user_action: "Sign in to the app, then try again.",
        retryable: false, redirectable: false,
    }
    BearerTokenMalformed {
        code: 10012, oauth_error: Some(InvalidToken), status: 401,
        message: "The access token is malformed: {reason}.",
        causes: &[
            "The token contains characters outside the RFC 6750 b64token set, such as spaces, quotes or a trailing newline.",
            "The token was cut short or URL-encoded on the way.",
            "The value is not a JWT (three base64url parts separated by dots), for example an authorization code or a refresh token.",
        ],
        developer_action: "Send the access_token value from the token response unchanged after 'Bearer ' (one space). Do not quote, encode or trim it, and do not send the refresh token or ID token.",
        user_action: "Sign in to the app again. If the problem continues, contact the app's support.",
        retryable: false, redirectable: false,
    }
    BearerTokenSignatureInvalid {
        code: 10013, oauth_error: Some(InvalidToken), status: 401,
        message: "The access token's signature does not verify with any of the issuer's signing keys.",
        causes: &[
            "The token was altered after it was issued.",
            "The token was signed by another tenant or another server.",
            "The signing key was removed from the JWKS after a key rotation.",
        ],
        developer_action: "Use tokens exactly as Tessera issued them, from the tenant the API trusts. API code that validates tokens itself should refresh the JWKS when it meets an unknown kid.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    BearerTokenExpired {
        code: 10014, oauth_error: Some(InvalidToken), status: 401,
        message: "The access token expired at {time}.",
        causes: &[
            "The app kept using an access token past its exp time.",
            "The app's clock or the API's clock is wrong.",
        ],
        developer_action: "Get a new access token with the refresh token before exp (or on this error) and retry once. Keep server clocks in sync with NTP.",
        user_action: "Sign in to the app again if it does not recover by itself.",
        retryable: false, redirectable: false,
    }
    BearerTokenAudienceMismatch {
        code: 10015, oauth_error: Some(InvalidToken), status: 401,
        message: "The access token was issued for {audience}, not for this API ({expected}).",
        causes: &[
            "The app sent a token it got for one API to another API.",
            "The token request named the wrong resource or scope, so the token carries another audience.",
        ],
        developer_action: "Request a separate access token for each API, using the resource parameter or that API's scopes, and send each API only its own token.",
        user_action: "The app used the wrong sign-in for this service. Sign in again; if it continues, contact the app's support.",
        retryable: false, redirectable: false,
    }
    InsufficientScope {
        code: 10016, oauth_error: Some(InsufficientScope), status: 403,
        message: "This request needs the scope {scope}, which the access token does not carry.",
        causes: &[
            "The app did not ask for the scope when it requested the token.",
            "The user or an administrator did not consent to the scope.",
            "The token was obtained with a narrower scope on refresh.",
        ],
        developer_action: "Add the scope named in the WWW-Authenticate header to the scope parameter of the authorization or token request, get a new token, and retry.",
        user_action: "The app needs a permission you have not given it. Sign in again and accept the permission, or ask your administrator to grant it.",
        retryable: false, redirectable: false,
    }
    RefreshTokenParameterMissing {
        code: 10017, oauth_error: Some(InvalidRequest), status: 400,
        message: "The refresh_token parameter is missing; grant_type=refresh_token requires it.",
        causes: &[
            "The app sent the authorization code in the code parameter instead of a refresh token.",
            "The app never received a refresh token (offline_access was not requested) and sent an empty value.",
            "The parameter name is misspelled, for example refreshToken.",
        ],
        developer_action: "Send the refresh token from the earlier token response in the refresh_token parameter of the POST body. Request the offline_access scope if no refresh token was returned.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    CsrfTokenInvalid {
        code: 10018, oauth_error: Some(InvalidRequest), status: 400,
        message: "The form was not sent from the page Tessera showed in this browser, or that page has expired.",
        causes: &[
            "The page was open for a long time, or cookies were cleared or blocked between showing the form and sending it.",
            "The form was submitted from another site (cross-site request forgery), which Tessera refuses.",
            "The browser refuses cookies for this site, so the form's token cannot be checked.",
        ],
        developer_action: "Pages post back only to the origin that served them, with the csrf_token field of the form and the cookie set with it. Allow cookies for the Tessera host; do not replay or prefill Tessera's forms from another site.",
        user_action: "Go back to the app and start signing in again. If it keeps happening, allow cookies for this site.",
        retryable: true, redirectable: false,
    }
    RequestHeadersTooLarge {
        code: 10019, oauth_error: Some(InvalidRequest), status: 431,
        message: "The request's header section is larger than Tessera accepts.",
        causes: &[
            "Too many or too large cookies for this host (cookies of other applications on the same domain count too).",
            "A header carrying a whole token chain or an unrelated payload.",
        ],
        developer_action: "Send fewer or smaller headers: clear stale cookies for the host, and send tokens in the body where the protocol allows it.",
        user_action: "Clear this site's cookies in your browser and try again.",
        retryable: false, redirectable: false,
    }
    UriTooLong {
        code: 10020, oauth_error: Some(InvalidRequest), status: 414,
        message: "The request's URI is longer than Tessera accepts.",
        causes: &[
            "An authorization request with a very large state, scope list or request object in the query.",
            "A redirect loop that appends to the URL each time.",
        ],
        developer_action: "Keep the query short: a state value of reasonable size, and a POSTed authorization request for large parameters.",
        user_action: "The app sent an address that is too long. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    RequestTimeout {
        code: 10021, oauth_error: Some(InvalidRequest), status: 408,
        message: "The request body did not arrive within {seconds} seconds.",
        causes: &[
            "A client or network so slow that the body trickled in, or a client that announced a body and stopped sending it.",
            "A deliberate slow sender holding connections open (slowloris).",
        ],
        developer_action: "Send the whole request body at once, right after the headers; check proxies between the client and Tessera for buffering or stalls.",
        user_action: "The connection was too slow. Try again; if it keeps happening, try another network.",
        retryable: true, redirectable: false,
    }
    // ---- client: TS20000–29999 --------------------------------------------------------
    ClientNotFound {
        code: 20001, oauth_error: Some(InvalidClient), status: 401,
        message: "No app with client_id {client_id} is registered in the tenant {tenant}.",
        causes: &[
            "The app is registered in another tenant and the request went to this tenant's endpoint.",
            "A typo in client_id, or a value copied from another environment.",
            "The app registration was deleted.",
        ],
        developer_action: "Copy the client_id from the app registration and send the request to the endpoint of the tenant the app is registered in (or to common if the app is multi-tenant).",
        user_action: "The app is not set up correctly for this sign-in. Contact the app's support or your administrator.",
        retryable: false, redirectable: false,
    }
    RedirectUriMismatch {
        code: 20002, oauth_error: Some(InvalidRequest), status: 400,
        message: "The redirect URI '{redirect_uri}' is not registered for the app {client_id}.",
        causes: &[
            "The registered URI differs in scheme, host, port, path, trailing slash or letter case.",
            "The app runs in a new environment (localhost, staging) whose URI was never registered.",
            "The URI is registered under another platform type (web instead of spa).",
        ],
        developer_action: "Register the exact value sent in redirect_uri on the app registration, under the right platform, or change redirect_uri to a registered value. Only native loopback URIs may differ in port.",
        user_action: "The app is not set up correctly for this sign-in. Contact the app's support or your administrator.",
        retryable: false, redirectable: false,
    }
    MissingClientCredentials {
        code: 20003, oauth_error: Some(InvalidClient), status: 401,
        message: "The app {client_id} is a confidential client, but the request has neither client_secret nor client_assertion.",
        causes: &[
            "The secret was not configured in the app's deployment, so it was sent empty or not at all.",
            "The app is registered as web (confidential) but is used as a public client.",
            "An Authorization: Basic header was removed by a proxy.",
        ],
        developer_action: "Authenticate on every token request: client_secret_basic, client_secret_post, or a private_key_jwt client_assertion. If the app cannot keep a secret, register its redirect URIs under spa or native.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    InvalidClientSecret {
        code: 20004, oauth_error: Some(InvalidClient), status: 401,
        message: "The client secret sent for the app {client_id} is not valid.",
        causes: &[
            "A secret from another app, tenant or environment.",
            "The secret's ID was sent instead of its value.",
            "client_secret_basic was used without URL-encoding the client_id and secret before base64 (RFC 6749 section 2.3.1).",
        ],
        developer_action: "Copy the secret value (shown once, at creation) into the app's configuration. With HTTP Basic, form-urlencode client_id and secret before joining and base64-encoding them.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientSecretExpired {
        code: 20005, oauth_error: Some(InvalidClient), status: 401,
        message: "The client secret sent for the app {client_id} expired at {time}.",
        causes: &[
            "The secret reached the expiry date set when it was created.",
            "A new secret was created but the app's configuration still holds the old one.",
        ],
        developer_action: "Create a new secret on the app registration, deploy it, then delete the expired one. Rotate before expiry: an app may hold several secrets at once.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    PublicClientCredentialsNotAllowed {
        code: 20006, oauth_error: Some(InvalidClient), status: 401,
        message: "The app {client_id} is a public client and must not send {credential}.",
        causes: &[
            "A spa or native app ships a client secret, which anyone can read.",
            "The app registration lists spa or native redirect URIs while the app runs server-side.",
            "A library sends a client_assertion by default.",
        ],
        developer_action: "Remove client_secret and client_assertion from requests made by spa and native apps and use PKCE instead. If the app runs on a server, register its redirect URI under web.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    UnauthorizedGrantType {
        code: 20007, oauth_error: Some(UnauthorizedClient), status: 400,
        message: "The app {client_id} is not allowed to use the grant type {grant_type}.",
        causes: &[
            "The grant type is not in the app registration's list of allowed grant types.",
            "client_credentials was used by a public client, which cannot authenticate.",
            "The app asked for an authorization code but is registered for device or client credentials only.",
        ],
        developer_action: "Add the grant type to the app registration's allowed grant types, or use a grant the app is registered for.",
        user_action: "The app is not set up for this kind of sign-in. Contact the app's support or your administrator.",
        retryable: false, redirectable: true,
    }
    ImplicitIdTokenNotEnabled {
        code: 20008, oauth_error: Some(UnauthorizedClient), status: 400,
        message: "The response_type {response_type} returns an ID token from the authorization endpoint, which the app {client_id} has not enabled.",
        causes: &[
            "The app uses response_type=id_token or a hybrid type but ID tokens by implicit flow are off (the default).",
            "A library defaults to the implicit or hybrid flow.",
        ],
        developer_action: "Prefer response_type=code with PKCE. If the app needs ID tokens from the authorization endpoint, enable implicit ID tokens on the app registration.",
        user_action: "The app is not set up for this kind of sign-in. Contact the app's support or your administrator.",
        retryable: false, redirectable: true,
    }
    ImplicitAccessTokenNotEnabled {
        code: 20009, oauth_error: Some(UnauthorizedClient), status: 400,
        message: "The response_type {response_type} returns an access token from the authorization endpoint, which the app {client_id} has not enabled.",
        causes: &[
            "The app uses response_type=token or 'id_token token' but implicit access tokens are off (the default).",
            "An older single-page app library that still uses the implicit flow.",
        ],
        developer_action: "Move to response_type=code with PKCE and redeem the code at the token endpoint. Enable implicit access tokens on the app registration only if that is not yet possible.",
        user_action: "The app is not set up for this kind of sign-in. Contact the app's support or your administrator.",
        retryable: false, redirectable: true,
    }
    SpaOriginRequired {
        code: 20010, oauth_error: Some(InvalidRequest), status: 400,
        message: "The code or refresh token was issued to a single-page app and must be redeemed from the browser, but the request has no Origin header.",
        causes: &[
            "A server-side backend redeems a code that was issued to a spa redirect URI, or a refresh token that came from one.",
            "The redirect URI is registered under spa while the app is a server-side web app.",
            "A proxy strips the Origin header.",
        ],
        developer_action: "Redeem spa codes from the browser with a cross-origin request (fetch sends Origin). If a server redeems the code, register the redirect URI under web and authenticate the client.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    PostLogoutRedirectUriMismatch {
        code: 20011, oauth_error: None, status: 400,
        message: "The post_logout_redirect_uri '{redirect_uri}' is not registered for the app {client_id}.",
        causes: &[
            "The URI was never added to the app's post-logout redirect URIs.",
            "It differs from the registered one in scheme, host, port, path or trailing slash.",
            "client_id or id_token_hint was omitted, so the app the URI belongs to is unknown.",
        ],
        developer_action: "Register the exact post_logout_redirect_uri on the app registration, and send client_id or id_token_hint with the logout request.",
        user_action: "Tessera could not take you back to the app after signing out. Close this page and open the app again; if you still appear signed in, sign out from there.",
        retryable: false, redirectable: false,
    }
    ClientAuthenticationRequired {
        code: 20012, oauth_error: Some(InvalidClient), status: 401,
        message: "The endpoint {endpoint} needs client authentication, which the public client {client_id} cannot give.",
        causes: &[
            "A public app (a single-page or native app without a secret) called token introspection, which only confidential clients such as APIs may use.",
            "The app lost its secret in a registration change and is now public.",
        ],
        developer_action: "Call introspection from a confidential client (your API's own registration with a client secret), or validate the JWT access token offline against the JWKS instead.",
        user_action: "The app is misconfigured. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    SpaOriginMismatch {
        code: 20013, oauth_error: Some(InvalidRequest), status: 400,
        message: "The code or refresh token was issued to a single-page app of {client_id} and must be redeemed from one of its origins, not from {origin}.",
        causes: &[
            "A page of another site got hold of the code or refresh token and redeems it.",
            "The app moved to a new origin that is not among its registered spa redirect URIs.",
            "The app is served from several origins and only some are registered.",
        ],
        developer_action: "Register a spa redirect URI for every origin the app runs on, and redeem its codes and refresh tokens from the page of that origin.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    AppDisabled {
        code: 20014, oauth_error: Some(UnauthorizedClient), status: 400,
        message: "The app {client_id} is disabled in this tenant.",
        causes: &[
            "An administrator disabled the app registration.",
        ],
        developer_action: "Ask the tenant's administrator to enable the app. Codes, refresh tokens and device authorizations issued before it was disabled stay void; sign the user in again.",
        user_action: "This app has been turned off by your administrator. Contact them if you need it.",
        retryable: false, redirectable: false,
    }
    // ---- grant: TS30000–39999 ---------------------------------------------------------
    AuthorizationCodeInvalid {
        code: 30001, oauth_error: Some(InvalidGrant), status: 400,
        message: "The authorization code is not valid: it is malformed or was not issued by this tenant.",
        causes: &[
            "The code was cut short, decoded or re-encoded on its way from the redirect to the token request.",
            "The code was sent to another tenant's token endpoint than the one that issued it.",
            "A code from a test or another environment was used.",
            "Tessera's nodes do not share one master key, or the master key changed after the code was issued (a code is sealed under it).",
        ],
        developer_action: "Send the code parameter from the redirect unchanged to the token endpoint of the same tenant (the token_endpoint of the issuer that issued it).",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    AuthorizationCodeExpired {
        code: 30002, oauth_error: Some(InvalidGrant), status: 400,
        message: "The authorization code has expired. Codes must be redeemed within {seconds} seconds of being issued.",
        causes: &[
            "The app waited too long between receiving the redirect and calling the token endpoint.",
            "A debugger breakpoint or a slow backend delayed the token request.",
            "The clocks of Tessera's nodes are out of sync.",
        ],
        developer_action: "Redeem the code as soon as the redirect arrives, and do not keep codes for later. Get a new code by starting the authorization request again.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    AuthorizationCodeRedeemed {
        code: 30003, oauth_error: Some(InvalidGrant), status: 400,
        message: "The authorization code was already redeemed. The tokens issued when it was first used have been revoked.",
        causes: &[
            "The app redeemed the same code twice, for example after a retry on a network timeout or a double page load.",
            "Two processes (a browser and a backend) both redeem the code.",
            "The code leaked and someone else used it first.",
        ],
        developer_action: "Redeem each code exactly once, from one place, and do not retry a token request whose code may have been used. Start a new authorization request to get new tokens.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    AuthorizationCodeClientMismatch {
        code: 30004, oauth_error: Some(InvalidGrant), status: 400,
        message: "The authorization code was issued to another app, not to {client_id}.",
        causes: &[
            "The authorization request and the token request use different client_id values.",
            "Several apps share one callback handler that redeems codes with the wrong credentials.",
        ],
        developer_action: "Use the same client_id in the authorization request and the token request, and authenticate as that app.",
        user_action: "Sign in to the app again. If the problem continues, contact the app's support.",
        retryable: false, redirectable: false,
    }
    AuthorizationCodeRedirectMismatch {
        code: 30005, oauth_error: Some(InvalidGrant), status: 400,
        message: "The redirect_uri '{redirect_uri}' differs from the one sent in the authorization request.",
        causes: &[
            "The token request builds redirect_uri differently (another host, port, path or trailing slash).",
            "redirect_uri was omitted from the token request although the authorization request carried it.",
        ],
        developer_action: "Send in the token request exactly the redirect_uri value that was sent in the authorization request (RFC 6749 section 4.1.3).",
        user_action: "Sign in to the app again. If the problem continues, contact the app's support.",
        retryable: false, redirectable: false,
    }
    PkceRequired {
        code: 30006, oauth_error: Some(InvalidRequest), status: 400,
        message: "The app {client_id} is a public client and must send a code_challenge (PKCE, method S256).",
        causes: &[
            "The app is registered as spa or native and its library does not enable PKCE.",
            "code_challenge was sent under another name or dropped by a redirect.",
        ],
        developer_action: "Generate a random code_verifier per request, send code_challenge=BASE64URL(SHA256(verifier)) with code_challenge_method=S256, and send the verifier in the token request.",
        user_action: "The app could not start signing you in. Contact the app's support.",
        retryable: false, redirectable: true,
    }
    PkceMethodNotSupported {
        code: 30007, oauth_error: Some(InvalidRequest), status: 400,
        message: "The code_challenge_method '{method}' is not supported. Supported methods: {supported}.",
        causes: &[
            "The app uses the plain method, which the tenant has disabled.",
            "A typo or wrong letter case in code_challenge_method (s256).",
            "code_challenge was sent without code_challenge_method, which means plain.",
        ],
        developer_action: "Send code_challenge_method=S256 with a SHA-256 code_challenge.",
        user_action: "The app could not start signing you in. Contact the app's support.",
        retryable: false, redirectable: true,
    }
    PkceVerifierMissing {
        code: 30008, oauth_error: Some(InvalidRequest), status: 400,
        message: "The authorization code was issued with a code_challenge, so the token request must include code_verifier.",
        causes: &[
            "The app lost the verifier between the authorization request and the token request (a new tab, a cleared session).",
            "The library sends the challenge but not the verifier.",
        ],
        developer_action: "Store the code_verifier with the authorization request's state and send it as code_verifier in the token request.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    PkceVerifierMismatch {
        code: 30009, oauth_error: Some(InvalidGrant), status: 400,
        message: "The code_verifier does not match the code_challenge sent in the authorization request.",
        causes: &[
            "The verifier of another sign-in attempt was sent, for example when two tabs sign in at once.",
            "The challenge was computed with standard base64 or with padding instead of base64url without padding.",
            "The challenge was hashed from something other than the verifier's ASCII bytes.",
        ],
        developer_action: "Keep one verifier per authorization request (key it by state) and compute code_challenge as base64url, no padding, of SHA-256 over the verifier.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    PkceNotExpected {
        code: 30010, oauth_error: Some(InvalidRequest), status: 400,
        message: "PKCE is not expected here: {reason}.",
        causes: &[
            "A code_verifier was sent for a code that was issued without a code_challenge (a PKCE downgrade is refused).",
            "A code_challenge was sent with a response type that issues no code, such as response_type=id_token.",
        ],
        developer_action: "Send code_challenge only with response types that include code, and send code_verifier only when the authorization request carried a code_challenge.",
        user_action: "Sign in to the app again. If the problem continues, contact the app's support.",
        retryable: false, redirectable: true,
    }
    RefreshTokenInvalid {
        code: 30011, oauth_error: Some(InvalidGrant), status: 400,
        message: "The refresh token is not valid: it is malformed, was not issued by this tenant, or is no longer known to it.",
        causes: &[
            "The token was cut short or changed in storage.",
            "A refresh token from another tenant or environment was used.",
            "An access token or ID token was sent as refresh_token.",
            "The token ended long enough ago to have been swept from the store.",
            "The master key that sealed it was removed from the key ring (a rotation finished, or an emergency one).",
        ],
        developer_action: "Store the refresh_token value from the token response unchanged and send it to the token endpoint of the tenant that issued it; when it is refused, sign the user in again.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    RefreshTokenExpired {
        code: 30012, oauth_error: Some(InvalidGrant), status: 400,
        message: "The refresh token expired at {time} when it reached its {lifetime} lifetime.",
        causes: &[
            "The app was not used for longer than the idle lifetime.",
            "The token reached its absolute lifetime, which use does not extend.",
        ],
        developer_action: "Treat this as the end of the session: start a new authorization request. Do not retry with the same token.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    SpaRefreshTokenExpired {
        code: 30013, oauth_error: Some(InvalidGrant), status: 400,
        message: "The refresh token reached the fixed {time} lifetime for single-page apps, which using it does not extend.",
        causes: &[
            "A single-page app's refresh token always ends after the fixed lifetime, however often it is used.",
        ],
        developer_action: "Before the lifetime ends, get a new code with a silent authorization request (prompt=none in a hidden frame or a redirect) and redeem it for a new refresh token.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    RefreshTokenRevoked {
        code: 30014, oauth_error: Some(InvalidGrant), status: 400,
        message: "The refresh token was revoked ({reason}). A new sign-in is needed.",
        causes: &[
            "The user or an administrator revoked the user's sessions, or the user changed the password.",
            "The user signed out, or withdrew consent for the app.",
            "An administrator disabled the account or removed the user's grant.",
        ],
        developer_action: "Discard the stored tokens and start a new authorization request. Do not retry with the same token.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    RefreshTokenReused {
        code: 30015, oauth_error: Some(InvalidGrant), status: 400,
        message: "The refresh token was already used and replaced. Every token of its family has now been revoked.",
        causes: &[
            "The app kept the old refresh token after a rotation and sent it again.",
            "Two tabs or processes refreshed at the same time with the same token.",
            "The token was stolen and used by someone else.",
        ],
        developer_action: "Replace the stored refresh token with the new one from every token response, and serialize refreshes so only one request uses a token. Start a new sign-in now.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    RefreshTokenClientMismatch {
        code: 30016, oauth_error: Some(InvalidGrant), status: 400,
        message: "The refresh token was issued to another app, not to {client_id}.",
        causes: &[
            "Several apps share a token cache keyed without the client_id.",
            "The app's client_id changed and old tokens were kept.",
        ],
        developer_action: "Key stored tokens by client_id and tenant, and refresh with the client_id the token was issued to.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    ScopeNotSubset {
        code: 30017, oauth_error: Some(InvalidScope), status: 400,
        message: "The scopes {scope} were not part of the original grant and cannot be added here.",
        causes: &[
            "The refresh or exchange request asks for a scope the user never consented to for this app.",
            "A new scope was added to the app's code without a new sign-in.",
        ],
        developer_action: "On refresh or exchange, request only scopes from the original grant, or omit scope. For new scopes, start an authorization request so the user can consent.",
        user_action: "Sign in to the app again and accept the permissions it asks for.",
        retryable: false, redirectable: false,
    }
    DeviceAuthorizationPending {
        code: 30018, oauth_error: Some(AuthorizationPending), status: 400,
        message: "The user has not yet approved the device. Keep polling every {interval} seconds.",
        causes: &[
            "The user has not yet entered the code or finished signing in on the other device.",
        ],
        developer_action: "Keep polling the token endpoint at the interval from the device authorization response until you get tokens, access_denied or expired_token.",
        user_action: "Finish signing in on your phone or computer with the code shown on the device.",
        retryable: true, redirectable: false,
    }
    DeviceSlowDown {
        code: 30019, oauth_error: Some(SlowDown), status: 400,
        message: "The device is polling too often. Wait at least {interval} seconds between requests.",
        causes: &[
            "The app polls faster than the interval it was given.",
            "The app ignored an earlier slow_down and did not add 5 seconds to its interval.",
        ],
        developer_action: "Poll no faster than interval, and add 5 seconds to the interval each time you receive slow_down (RFC 8628 section 3.5).",
        user_action: "Finish signing in on your other device; the device will pick it up shortly.",
        retryable: true, redirectable: false,
    }
    DeviceCodeExpired {
        code: 30020, oauth_error: Some(ExpiredToken), status: 400,
        message: "The device code expired at {time}. Start a new device sign-in.",
        causes: &[
            "The user did not enter the code and sign in before expires_in ran out.",
            "The device kept polling with an old device_code.",
        ],
        developer_action: "Stop polling and request a new device code from the device authorization endpoint, then show the new user code.",
        user_action: "Start the sign-in again on the device to get a new code.",
        retryable: false, redirectable: false,
    }
    DeviceCodeInvalid {
        code: 30021, oauth_error: Some(InvalidGrant), status: 400,
        message: "The device_code is not valid: it is malformed, unknown, or was issued to another app.",
        causes: &[
            "The app sent the user code instead of the device code.",
            "The device code was issued to another client_id or by another tenant.",
            "The device code was already redeemed for tokens.",
        ],
        developer_action: "Poll with the device_code (not the user_code) from the device authorization response, using the same client_id and tenant.",
        user_action: "Start the sign-in again on the device to get a new code.",
        retryable: false, redirectable: false,
    }
    DeviceAccessDenied {
        code: 30022, oauth_error: Some(AccessDenied), status: 400,
        message: "The user declined the device sign-in request.",
        causes: &[
            "The user chose not to allow the device on the approval page.",
            "The user did not recognize the device or the request.",
        ],
        developer_action: "Stop polling and tell the user the sign-in was declined; offer to start again.",
        user_action: "You declined this sign-in. If that was a mistake, start again on the device.",
        retryable: false, redirectable: false,
    }
    DeviceUserCodeInvalid {
        code: 30023, oauth_error: None, status: 400,
        message: "That code does not match any device waiting for sign-in.",
        causes: &[
            "A typo when copying the code from the device.",
            "The code is from another service or another tenant's sign-in page.",
        ],
        developer_action: "Show the user code in a large, unambiguous font, and display verification_uri_complete (or a QR code of it) so users need not type the code.",
        user_action: "Check the code shown on the device and type it again.",
        retryable: false, redirectable: false,
    }
    DeviceUserCodeExpired {
        code: 30024, oauth_error: None, status: 400,
        message: "That code has expired. Start again on the device to get a new code.",
        causes: &[
            "The code was entered after its lifetime ended.",
            "The device already started a new sign-in with a new code.",
        ],
        developer_action: "Request a new device code when the old one expires and show the new user code right away.",
        user_action: "Start the sign-in again on the device and enter the new code it shows.",
        retryable: false, redirectable: false,
    }
    ClientAssertionTypeUnsupported {
        code: 30025, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion_type '{value}' is not supported. Use urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
        causes: &[
            "A typo in client_assertion_type, or the parameter is missing while client_assertion is sent.",
            "A SAML assertion type was sent.",
        ],
        developer_action: "Send client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer together with client_assertion.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionMalformed {
        code: 30026, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion is not a well-formed signed JWT: {reason}.",
        causes: &[
            "The JWT is not three base64url parts, or a part is not valid JSON.",
            "The assertion is unsigned (alg none) or encrypted instead of signed.",
            "A required claim (iss, sub, aud, exp, jti) is missing.",
        ],
        developer_action: "Send a JWS in compact form signed with RS256, ES256 or EdDSA, with a kid header and the claims iss, sub, aud, exp and jti (RFC 7523 section 3).",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionSignatureInvalid {
        code: 30027, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion signature does not verify with the key {kid} registered for the app {client_id}.",
        causes: &[
            "The assertion was signed with another private key than the one whose public key is registered.",
            "The alg header does not match the registered key type.",
            "The JWT was changed after signing.",
        ],
        developer_action: "Sign with the private key matching the registered certificate credential, set alg to match the key type, and do not alter the JWT after signing.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionKeyNotFound {
        code: 30028, oauth_error: Some(InvalidClient), status: 401,
        message: "The app {client_id} has no certificate credential with key id {kid}.",
        causes: &[
            "The signing key was rotated in the app but the new public key was not registered.",
            "The kid header is missing, or computed differently from the registered key id.",
            "The registered credential was removed or has expired.",
        ],
        developer_action: "Register the public key of the signing key on the app registration before using it, and set the JWT's kid header to the registered key id.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionIssuerMismatch {
        code: 30029, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion iss and sub must both equal the client_id {client_id}.",
        causes: &[
            "iss or sub holds a URL, an object id or another app's client_id.",
            "The client_id parameter and the assertion name different apps.",
        ],
        developer_action: "Set both iss and sub of the assertion to the app's client_id, and send the same value as client_id if you send that parameter.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionAudienceInvalid {
        code: 30030, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion aud '{audience}' does not name this server. Use {expected}.",
        causes: &[
            "aud holds another tenant's token endpoint or issuer.",
            "aud holds the authorization endpoint or a URL with a different path or trailing slash.",
        ],
        developer_action: "Set aud to this tenant's token endpoint URL or its issuer, exactly as the discovery document gives them.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionExpired {
        code: 30031, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion expired at {time}.",
        causes: &[
            "The assertion was created once and reused after its exp.",
            "The app's clock is behind.",
        ],
        developer_action: "Create a new assertion for each token request with exp a few minutes ahead, and keep the app's clock synced with NTP.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionNotYetValid {
        code: 30032, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion is not valid before {time}.",
        causes: &[
            "The app's clock is ahead, so nbf or iat lie in the future.",
            "nbf was set to a future time on purpose.",
        ],
        developer_action: "Set nbf and iat to the current time (or omit nbf) and keep the app's clock synced with NTP.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionReplayed {
        code: 30033, oauth_error: Some(InvalidClient), status: 401,
        message: "A client_assertion with jti {jti} was already used. Each assertion may be used only once.",
        causes: &[
            "The app caches one assertion and sends it on several token requests.",
            "The jti is a constant or is not random enough.",
            "A retried request reused the assertion.",
        ],
        developer_action: "Create a new assertion with a fresh random jti (for example a UUID v4) for every token request, including retries.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    ClientAssertionLifetimeTooLong {
        code: 30034, oauth_error: Some(InvalidClient), status: 401,
        message: "The client_assertion is valid for {lifetime} seconds; at most {max_lifetime} seconds are accepted.",
        causes: &[
            "exp was set hours or days ahead so one assertion could be reused.",
            "exp was given in milliseconds instead of seconds.",
        ],
        developer_action: "Set exp no more than the accepted lifetime after iat (a few minutes is typical), in seconds since the epoch.",
        user_action: "The app could not finish signing you in. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: false,
    }
    TokenExchangeSubjectInvalid {
        code: 30035, oauth_error: Some(InvalidRequest), status: 400,
        message: "The subject_token cannot be exchanged: {reason}.",
        causes: &[
            "The subject_token is expired, revoked or issued by another tenant.",
            "subject_token_type does not describe the token sent (for example an ID token sent as an access token).",
            "The subject token was not issued for this app, so it may not act on it.",
        ],
        developer_action: "Send a current access token whose audience is this app as subject_token, with subject_token_type=urn:ietf:params:oauth:token-type:access_token.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    TokenExchangeNotAllowed {
        code: 30036, oauth_error: Some(UnauthorizedClient), status: 400,
        message: "The app {client_id} may not exchange tokens on behalf of the user for {audience}.",
        causes: &[
            "The app has no delegated permission to the target API.",
            "Token exchange is not among the app registration's allowed grant types.",
            "The target API does not accept on-behalf-of tokens from this app.",
        ],
        developer_action: "Add token exchange to the app's allowed grant types and add the target API's delegated scopes to the app registration, then have them consented.",
        user_action: "The app is not allowed to reach this service for you. Contact the app's support or your administrator.",
        retryable: false, redirectable: false,
    }
    AuthorizationCodeRevoked {
        code: 30037, oauth_error: Some(InvalidGrant), status: 400,
        message: "The authorization code was voided after it was issued: the user's sessions were revoked, the user was disabled, the password was reset, or the app was disabled.",
        causes: &[
            "An administrator revoked the user's sessions or disabled the user while the code was on its way to the app.",
            "The password was reset or changed between sign-in and redemption.",
            "An administrator disabled the app after the code was issued (enabling it again does not revive the code).",
        ],
        developer_action: "Start a new authorization request; the user signs in again.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: false,
    }
    // ---- user: TS40000–49999 ----------------------------------------------------------
    InvalidCredentials {
        code: 40001, oauth_error: None, status: 400,
        message: "The username or password is incorrect.",
        causes: &[
            "A mistyped password, or Caps Lock is on.",
            "The user signed in with another account name or another tenant.",
            "The password was changed recently and an old one was used.",
        ],
        developer_action: "Nothing in the app causes this. Point users to the tenant's password reset if they cannot sign in.",
        user_action: "Check your username and password and try again. If you forgot your password, reset it or ask your administrator.",
        retryable: false, redirectable: false,
    }
    AccountLocked {
        code: 40002, oauth_error: Some(AccessDenied), status: 403,
        message: "The account is locked after too many failed sign-in attempts. It unlocks at {until}.",
        causes: &[
            "Several wrong passwords were entered in a short time.",
            "A device or script keeps trying an old password.",
            "Someone else is trying to guess the password.",
        ],
        developer_action: "Do not retry sign-ins automatically with stored passwords. Tell the user when the account unlocks.",
        user_action: "Wait until the time shown and sign in again, or ask your administrator to unlock the account now. If you did not make the failed attempts, change your password.",
        retryable: true, redirectable: true,
    }
    AccountDisabled {
        code: 40003, oauth_error: Some(AccessDenied), status: 403,
        message: "The account has been disabled by an administrator.",
        causes: &[
            "The user left the organization or the account is under review.",
            "The account was disabled by mistake.",
        ],
        developer_action: "Nothing in the app causes this. Show the user that the account is disabled and stop retrying.",
        user_action: "Ask your administrator to enable your account.",
        retryable: false, redirectable: true,
    }
    MfaRequired {
        code: 40004, oauth_error: Some(InteractionRequired), status: 400,
        message: "The sign-in policy requires a second factor, and this request cannot ask the user for one.",
        causes: &[
            "prompt=none was sent, but the session has no second factor and the policy requires one.",
            "A refresh token from a sign-in without a second factor was used after the tenant or the app began to require one.",
        ],
        developer_action: "On this error, send an interactive authorization request (without prompt=none) so the user can present a second factor.",
        user_action: "Sign in again and complete the extra verification step. If you have no way to verify, ask your administrator to set one up.",
        retryable: false, redirectable: true,
    }
    MfaCodeInvalid {
        code: 40005, oauth_error: None, status: 400,
        message: "The verification code is incorrect or has already been used.",
        causes: &[
            "A typo, or the code of another account in the authenticator app.",
            "The code changed before it was submitted.",
            "The clock of the phone running the authenticator app is wrong.",
        ],
        developer_action: "Nothing in the app causes this.",
        user_action: "Enter the current code from your authenticator app. If codes keep failing, check that your phone's clock is set automatically.",
        retryable: false, redirectable: false,
    }
    MfaExpired {
        code: 40006, oauth_error: Some(InteractionRequired), status: 400,
        message: "The second factor was presented more than {max_age} seconds ago; the policy requires it again.",
        causes: &[
            "The session's second factor is older than the tenant's mfa_max_age_seconds allows.",
            "prompt=none was sent, so the sign-in page could not ask for a code again.",
        ],
        developer_action: "Send an interactive authorization request (without prompt=none) so the user can verify again.",
        user_action: "Sign in again and complete the extra verification step.",
        retryable: false, redirectable: true,
    }
    SignInBlockedNetwork {
        code: 40007, oauth_error: Some(AccessDenied), status: 403,
        message: "Sign-in from the IP address {ip} is blocked by the tenant's policy.",
        causes: &[
            "The user is on a network the tenant blocks, such as a public network or another country.",
            "A VPN or proxy gives the user an address in a blocked range.",
        ],
        developer_action: "Nothing in the app causes this. If the app's servers sign in on behalf of users, make sure their addresses are allowed.",
        user_action: "Connect from an allowed network (for example your work network or VPN) and try again, or ask your administrator.",
        retryable: false, redirectable: true,
    }
    UserNotAssigned {
        code: 40008, oauth_error: Some(AccessDenied), status: 403,
        message: "The user is not assigned to the app {client_id}, which requires assignment.",
        causes: &[
            "The app requires user assignment and neither the user nor one of the user's groups is assigned.",
            "The assignment was removed.",
        ],
        developer_action: "Assign the user or a group to the app in its tenant, or turn off assignment required if every user may sign in.",
        user_action: "Ask your administrator to give you access to this app.",
        retryable: false, redirectable: true,
    }
    LoginRequired {
        code: 40009, oauth_error: Some(LoginRequired), status: 400,
        message: "No user is signed in, and prompt=none does not allow showing a sign-in page.",
        causes: &[
            "A silent request (prompt=none) was sent after the session ended or before the user ever signed in.",
            "The browser blocks third-party cookies, so a hidden frame cannot see the session.",
        ],
        developer_action: "On this error, send the same authorization request without prompt=none as a top-level redirect so the user can sign in.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: true,
    }
    InteractionRequired {
        code: 40010, oauth_error: Some(InteractionRequired), status: 400,
        message: "The user must complete a step on a Tessera page ({reason}), and prompt=none does not allow it.",
        causes: &[
            "The user must accept terms, change an expired password or answer another prompt.",
            "A sign-in policy requires a step that cannot be done silently.",
        ],
        developer_action: "On this error, send the authorization request without prompt=none as a top-level redirect.",
        user_action: "Sign in to the app again and complete the steps shown.",
        retryable: false, redirectable: true,
    }
    AccountSelectionRequired {
        code: 40011, oauth_error: Some(AccountSelectionRequired), status: 400,
        message: "Several accounts are signed in, and prompt=none does not allow asking which one to use.",
        causes: &[
            "More than one account is signed in in this browser and the request names none of them.",
        ],
        developer_action: "Send login_hint or id_token_hint to pick the account silently, or send the request without prompt=none (or with prompt=select_account).",
        user_action: "Sign in to the app again and choose the account you want to use.",
        retryable: false, redirectable: true,
    }
    ConsentRequired {
        code: 40012, oauth_error: Some(ConsentRequired), status: 400,
        message: "The user has not consented to {scope} for the app {client_id}, and this request cannot ask (prompt=none, or a token exchange on the user's behalf).",
        causes: &[
            "A middle-tier API exchanges a user's token for a downstream API the user never consented to for it.",
            "The app added a scope after the user last consented.",
            "The user or an administrator withdrew consent.",
            "The first sign-in to the app was attempted silently.",
        ],
        developer_action: "On this error, send the authorization request without prompt=none so the user can consent. A middle tier refused a token exchange passes the error to its client, which signs the user in asking for the downstream scopes (or an administrator consents for the tenant).",
        user_action: "Sign in to the app again and accept the permissions it asks for.",
        retryable: false, redirectable: true,
    }
    SessionNotFound {
        code: 40013, oauth_error: Some(LoginRequired), status: 400,
        message: "The session the request refers to does not exist or has ended.",
        causes: &[
            "The session named by sid or id_token_hint ended (sign-out, expiry, revocation).",
            "The id_token_hint is from another browser or tenant.",
        ],
        developer_action: "Drop the stale id_token_hint or sid and send an interactive authorization request.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: true,
    }
    LoginHintMismatch {
        code: 40014, oauth_error: Some(LoginRequired), status: 400,
        message: "The signed-in user is not the one named by {param}.",
        causes: &[
            "Another account is signed in in this browser than the one the app expects.",
            "The app sends a login_hint or id_token_hint left over from another user.",
        ],
        developer_action: "Send the hint of the user who is using the app now. On this error, send an interactive request with prompt=select_account or prompt=login.",
        user_action: "Sign in with the account you use for this app.",
        retryable: false, redirectable: true,
    }
    LogoutRequestExpired {
        code: 40015, oauth_error: None, status: 400,
        message: "This sign-out request has expired. Start signing out again from the app.",
        causes: &[
            "The sign-out confirmation page was left open too long.",
            "An old sign-out link was opened again, for example from the browser history.",
        ],
        developer_action: "Send users to the end_session_endpoint when they click sign out, rather than storing or caching logout URLs.",
        user_action: "Go back to the app and sign out again.",
        retryable: false, redirectable: false,
    }
    PlatformNotAllowed {
        code: 40016, oauth_error: Some(AccessDenied), status: 403,
        message: "Sign-in from {platform} devices is blocked by the tenant's policy.",
        causes: &[
            "The tenant allows sign-in only from certain device platforms.",
            "The browser sends an unusual user agent, so the platform is detected wrongly.",
        ],
        developer_action: "Nothing in the app causes this unless it changes the browser's user agent; embedded web views should keep the platform's default.",
        user_action: "Sign in from an allowed device (for example your work computer), or ask your administrator.",
        retryable: false, redirectable: true,
    }
    PasswordPolicyViolation {
        code: 40017, oauth_error: None, status: 400,
        message: "The new password does not meet the tenant's password policy: {reason}.",
        causes: &[
            "The password is too short.",
            "The password is a common or previously breached one, or contains the user name.",
        ],
        developer_action: "When setting passwords through the admin API, show the reason to the person choosing the password.",
        user_action: "Choose a longer password that you do not use elsewhere.",
        retryable: false, redirectable: false,
    }
    PasswordChangeRequired {
        code: 40019, oauth_error: Some(InteractionRequired), status: 400,
        message: "An administrator set a temporary password for this account; a new one must be chosen before signing in.",
        causes: &[
            "The password was reset by an administrator, who asked for it to be changed at the next sign-in.",
        ],
        developer_action: "Nothing in the app causes this. The user chooses a new password on the account page (/{tenant}/account/password) with the temporary one, then signs in again.",
        user_action: "Choose a new password with the link shown (you need the temporary password you were given), then sign in again.",
        retryable: false, redirectable: true,
    }
    IdTokenHintInvalid {
        code: 40018, oauth_error: Some(InvalidRequest), status: 400,
        message: "The id_token_hint is not an ID token this tenant issued: {reason}.",
        causes: &[
            "The hint is an access token, or an ID token of another tenant or provider.",
            "The token was cut short or changed on its way.",
            "The key that signed it was removed from the tenant after a compromise.",
        ],
        developer_action: "Send as id_token_hint the ID token this tenant issued to the app, unchanged (an expired one is accepted), or leave the parameter out.",
        user_action: "Sign in to the app again.",
        retryable: false, redirectable: true,
    }
    // ---- consent: TS50000–59999 -------------------------------------------------------
    InvalidScope {
        code: 50001, oauth_error: Some(InvalidScope), status: 400,
        message: "The scope '{scope}' does not exist. Scopes this app may request: {supported}.",
        causes: &[
            "A typo in the scope name (the most common cause).",
            "The scope belongs to an API that is not registered in this tenant.",
            "Scopes were separated with commas or plus signs instead of spaces.",
        ],
        developer_action: "Fix the scope parameter: space-separated values, each an OpenID scope (openid, profile, email, offline_access) or a scope the API defines, spelled as listed.",
        user_action: "The app asked for a permission that does not exist. Contact the app's support.",
        retryable: false, redirectable: true,
    }
    InvalidResource {
        code: 50002, oauth_error: Some(InvalidTarget), status: 400,
        message: "The resource '{resource}' is not known. The app is registered for: {resources}.",
        causes: &[
            "A typo in the resource parameter or in the API identifier of a scope.",
            "The API is registered in another tenant.",
            "The app registration does not list the API among its permissions.",
        ],
        developer_action: "Send as resource the identifier (audience) of an API registered in this tenant, and add that API's permissions to the app registration.",
        user_action: "The app asked for access to a service that is not set up. Contact the app's support.",
        retryable: false, redirectable: true,
    }
    AdminConsentRequired {
        code: 50003, oauth_error: Some(AccessDenied), status: 403,
        message: "The scope {scope} needs an administrator's consent, which the tenant {tenant} has not given.",
        causes: &[
            "The scope is marked as requiring admin consent.",
            "The tenant does not let users consent to apps themselves.",
        ],
        developer_action: "Ask an administrator of the tenant to grant consent for the app (for example with prompt=consent signed in as an administrator), or request only scopes users may consent to.",
        user_action: "Ask your administrator to approve this app for your organization.",
        retryable: false, redirectable: true,
    }
    ConsentDeclined {
        code: 50004, oauth_error: Some(AccessDenied), status: 403,
        message: "The user declined to give the app {client_id} the permissions it asked for.",
        causes: &[
            "The user chose Cancel or Decline on the consent page.",
            "The app asks for more permissions than the user is willing to grant.",
        ],
        developer_action: "Handle access_denied on the redirect URI: explain why the app needs the permissions and offer to try again. Ask for fewer scopes up front.",
        user_action: "You declined the permissions. To use the app, sign in again and accept them.",
        retryable: false, redirectable: true,
    }
    ScopeMultipleResources {
        code: 50005, oauth_error: Some(InvalidScope), status: 400,
        message: "The scopes name more than one API ({resources}); one access token is issued for one API.",
        causes: &[
            "The scope parameter mixes delegated scopes of two APIs, for example api://orders/read and api://billing/read.",
            "The app tries to get one token for every API it calls.",
        ],
        developer_action: "Request scopes of one API per authorization; get tokens for further APIs with the refresh token (scope of the other API), as each API needs its own audience.",
        user_action: "The app asked for something Tessera cannot grant in one step. Contact the app's support and quote the trace id.",
        retryable: false, redirectable: true,
    }
    // ---- tenant: TS60000–69999 --------------------------------------------------------
    TenantNotFound {
        code: 60001, oauth_error: Some(InvalidRequest), status: 404,
        message: "No tenant named {tenant} exists.",
        causes: &[
            "A typo in the tenant segment of the URL.",
            "The tenant was deleted, or belongs to another Tessera installation.",
        ],
        developer_action: "Check the tenant slug in the authority URL, and read endpoint URLs from that tenant's discovery document.",
        user_action: "The sign-in link is wrong. Contact the app's support or your administrator.",
        retryable: false, redirectable: false,
    }
    TenantDisabled {
        code: 60002, oauth_error: Some(InvalidRequest), status: 403,
        message: "The tenant {tenant} has been disabled by an administrator.",
        causes: &[
            "An administrator of the installation disabled the tenant.",
        ],
        developer_action: "Nothing in the app causes this. Ask the installation's administrator to enable the tenant again.",
        user_action: "Sign-in to your organization is switched off. Ask your administrator.",
        retryable: false, redirectable: false,
    }
    CommonEndpointNotAllowed {
        code: 60003, oauth_error: Some(InvalidRequest), status: 400,
        message: "The app {client_id} is single-tenant and must use its own tenant's endpoint, not {tenant}.",
        causes: &[
            "The app's authority is set to common or organizations although the app is single-tenant.",
            "A sample configuration was copied without changing the authority.",
        ],
        developer_action: "Set the authority to the tenant the app is registered in, or make the app registration multi-tenant.",
        user_action: "The app is not set up correctly for this sign-in. Contact the app's support.",
        retryable: false, redirectable: false,
    }
    ConsumersEndpointNotAllowed {
        code: 60004, oauth_error: Some(InvalidRequest), status: 400,
        message: "The app {client_id} is not open to personal accounts, so it cannot be used through {tenant}.",
        causes: &[
            "The authority is set to consumers but the app accepts only work accounts.",
            "A user of a personal-account tenant tried to sign in to a multi-tenant app registered without personal_accounts.",
        ],
        developer_action: "Use the app's own tenant or organizations as authority, or register the app for personal accounts.",
        user_action: "This app does not accept personal accounts. Sign in with your work account.",
        retryable: false, redirectable: false,
    }
    AppNotAvailableInTenant {
        code: 60005, oauth_error: Some(AccessDenied), status: 403,
        message: "The app {client_id} has not been added to the tenant {tenant}. An administrator there must consent to it first.",
        causes: &[
            "A user of another tenant signed in to a multi-tenant app no one in their tenant has consented to, and users may not consent.",
            "An administrator removed the app from the tenant.",
        ],
        developer_action: "Have an administrator of the user's tenant consent to the app for everyone there: send them to /{tenant}/adminconsent?client_id=…&redirect_uri=… (docs/multi-tenant.md).",
        user_action: "Ask your administrator to add this app to your organization.",
        retryable: false, redirectable: true,
    }
    TenantAccessRestricted {
        code: 60006, oauth_error: Some(AccessDenied), status: 403,
        message: "The tenant {home_tenant}, where the app {client_id} is registered, does not admit users of {tenant} to its apps.",
        causes: &[
            "The app's tenant lists the tenants whose users may sign in to its multi-tenant apps (policy admitted_tenants), and the user's tenant is not among them.",
            "The user signed in with an account of another organization than the one the app serves.",
        ],
        developer_action: "Add the user's tenant to admitted_tenants in the policy of the app's tenant, if its users should sign in.",
        user_action: "Sign in with an account of an organization this app serves, or ask the app's owner whether yours can be admitted.",
        retryable: false, redirectable: true,
    }
    TenantSlugInvalid {
        code: 60007, oauth_error: None, status: 400,
        message: "The tenant slug '{slug}' is not valid: {reason}.",
        causes: &[
            "The slug has upper-case letters, spaces, underscores or non-ASCII characters.",
            "The slug is shorter than 2 or longer than 64 characters.",
        ],
        developer_action: "Use 2 to 64 characters of lowercase letters a-z, digits and hyphens.",
        user_action: "Choose another name for the tenant using lowercase letters, digits and hyphens.",
        retryable: false, redirectable: false,
    }
    TenantSlugReserved {
        code: 60008, oauth_error: None, status: 400,
        message: "The tenant slug '{slug}' is reserved and cannot be used.",
        causes: &[
            "The slug is a meta-tenant (common, organizations, consumers) or a route (errors, healthz, readyz, metrics, .well-known), or admin.",
        ],
        developer_action: "Pick a slug that is not common, organizations, consumers, errors, healthz, readyz, metrics, .well-known or admin.",
        user_action: "Choose another name for the tenant.",
        retryable: false, redirectable: false,
    }
    TenantExists {
        code: 60009, oauth_error: None, status: 409,
        message: "A tenant with the slug {slug} already exists.",
        causes: &[
            "The tenant was created earlier, for example by a previous import run.",
            "Another administrator chose the same slug.",
        ],
        developer_action: "Choose another slug, or update the existing tenant instead of creating it (imports should be idempotent).",
        user_action: "Choose another name for the tenant.",
        retryable: false, redirectable: false,
    }
    TenantAdminRequired {
        code: 60010, oauth_error: Some(AccessDenied), status: 403,
        message: "{user} is not an administrator of {tenant}, so cannot consent to the app {client_id} for everyone there.",
        causes: &[
            "Someone without the management API's Directory.ReadWrite role (directly or through a group) opened an admin-consent link.",
            "The browser is signed in with another account of the tenant than the administrator's.",
        ],
        developer_action: "Send the admin-consent link to an administrator of the customer's tenant.",
        user_action: "Ask an administrator of your organization to open the link, or sign in as one.",
        retryable: false, redirectable: true,
    }
    // ---- external: TS70000–79999 ------------------------------------------------------
    ProtocolNotSupported {
        code: 70001, oauth_error: None, status: 400,
        message: "{protocol} is not supported by Tessera. Use OpenID Connect or OAuth 2.0.",
        causes: &[
            "The app or device uses WS-Federation, SAML-P via WS-Trust, or Kerberos/desktop single sign-on.",
            "An old client library sends a protocol Tessera never served.",
        ],
        developer_action: "Move the app to OpenID Connect (authorization code with PKCE), using the endpoints in the discovery document.",
        user_action: "This app uses a sign-in method your organization's identity service does not offer. Contact the app's support.",
        retryable: false, redirectable: false,
    }
    UpstreamIdpError {
        code: 70002, oauth_error: Some(ServerError), status: 502,
        message: "Sign-in through the identity provider {idp} failed: {detail}.",
        causes: &[
            "The upstream identity provider is down or timed out.",
            "It returned an error response or a token Tessera could not read.",
        ],
        developer_action: "Retry the sign-in later. If it keeps failing, check the upstream provider's status and the detail in Tessera's log under the trace id.",
        user_action: "Try signing in again in a few minutes. If it keeps failing, contact your administrator.",
        retryable: true, redirectable: true,
    }
    UpstreamIdpMisconfigured {
        code: 70003, oauth_error: Some(ServerError), status: 500,
        message: "The connection to the identity provider {idp} is misconfigured; an administrator must fix it.",
        causes: &[
            "The client secret or certificate for the upstream provider expired or is wrong.",
            "The upstream provider's issuer, endpoints or redirect URI do not match the configuration.",
            "The upstream provider's signing keys changed and the configured keys are stale.",
        ],
        developer_action: "Fix the identity provider connection in the tenant: its client_id, secret or key, issuer and the redirect URI registered at the provider.",
        user_action: "Sign-in through this provider is not working. Tell your administrator.",
        retryable: false, redirectable: true,
    }
    ClaimsProviderFailed {
        code: 70004, oauth_error: Some(ServerError), status: 502,
        message: "The claims provider {provider} failed ({reason}).",
        causes: &[
            "The claims provider timed out.",
            "It returned an error or a response Tessera could not read.",
        ],
        developer_action: "Retry later. If it persists, check the claims provider's health, its response format and its timeout setting in the tenant.",
        user_action: "Try again in a few minutes. If it keeps failing, contact your administrator.",
        retryable: true, redirectable: true,
    }
    ClaimsProviderThrottled {
        code: 70005, oauth_error: Some(TemporarilyUnavailable), status: 503,
        message: "The claims provider {provider} is throttling requests. Try again in {seconds} seconds.",
        causes: &[
            "More sign-ins or token requests than the claims provider's rate limit allows.",
        ],
        developer_action: "Wait for the Retry-After time before retrying, and cache tokens instead of requesting new ones for every call.",
        user_action: "Wait a moment and try again.",
        retryable: true, redirectable: true,
    }
    // ---- admin: TS80000–89999 ---------------------------------------------------------
    ValidationFailed {
        code: 80001, oauth_error: None, status: 400,
        message: "{count} field(s) of the request are invalid; see errors for each one.",
        causes: &[
            "A required field is missing or has the wrong type.",
            "A value breaks a rule, such as a redirect URI that is not absolute or a slug with upper-case letters.",
        ],
        developer_action: "Read the errors array of the problem details: each item names the field (a JSON pointer), a code and what is wrong. Fix those fields and resend.",
        user_action: "Correct the fields marked as invalid and try again.",
        retryable: false, redirectable: false,
    }
    NotFound {
        code: 80002, oauth_error: None, status: 404,
        message: "{resource} was not found.",
        causes: &[
            "A wrong id, or an id from another tenant.",
            "The object was deleted.",
        ],
        developer_action: "Check the id and the tenant in the URL; list the collection to find current ids.",
        user_action: "The item does not exist any more. Refresh the list and try again.",
        retryable: false, redirectable: false,
    }
    Conflict {
        code: 80003, oauth_error: None, status: 409,
        message: "{resource} conflicts with its current state: it already exists or was changed by another request.",
        causes: &[
            "An object with the same unique name or identifier already exists.",
            "The object changed since it was read (the If-Match ETag no longer matches).",
        ],
        developer_action: "Read the object again, apply the change to the current version and resend with its ETag in If-Match; for creation, choose another unique value.",
        user_action: "Someone else changed this item. Reload it and make the change again.",
        retryable: false, redirectable: false,
    }
    Unauthenticated {
        code: 80004, oauth_error: None, status: 401,
        message: "The admin API needs a credential in the Authorization header: the bootstrap admin credential, or an access token for the management API.",
        causes: &[
            "No Authorization header, or one that is not `Bearer <credential>`.",
            "The bootstrap credential was mistyped, or replaced since (a new secret of the built-in app).",
            "An expired or revoked access token, or one issued for another API.",
        ],
        developer_action: "Send Authorization: Bearer with the bootstrap credential printed at the first start, or with an access token for the management API from the admin tenant's token endpoint (client_credentials, scope api://tessera-management/.default), renewed before it expires. `tessera admin` on the server needs neither.",
        user_action: "Sign in again.",
        retryable: false, redirectable: false,
    }
    Forbidden {
        code: 80005, oauth_error: None, status: 403,
        message: "The access token lacks the permission {permission}.",
        causes: &[
            "The caller's role does not include the permission.",
            "The token was issued before the role was granted.",
        ],
        developer_action: "Grant the calling user or app a role that includes the permission, then get a new access token.",
        user_action: "Ask your administrator for the permission named in the message.",
        retryable: false, redirectable: false,
    }
    // ---- server: TS90000–99999 --------------------------------------------------------
    TemporarilyUnavailable {
        code: 90001, oauth_error: Some(TemporarilyUnavailable), status: 503,
        message: "Tessera cannot serve this request right now. Try again in {seconds} seconds.",
        causes: &[
            "The directory or the database cannot be reached.",
            "The server is starting, overloaded or under maintenance.",
        ],
        developer_action: "Retry after the Retry-After time with exponential backoff, and show users a temporary error.",
        user_action: "Wait a moment and try again.",
        retryable: true, redirectable: true,
    }
    RateLimited {
        code: 90002, oauth_error: Some(TemporarilyUnavailable), status: 429,
        message: "Too many requests. Try again in {seconds} seconds.",
        causes: &[
            "The app requests tokens for every call instead of reusing them until they expire.",
            "A retry loop without backoff.",
            "Many sign-ins from one address in a short time.",
        ],
        developer_action: "Honor Retry-After, cache access tokens until shortly before exp, and use exponential backoff with jitter on retries.",
        user_action: "Wait a moment and try again.",
        retryable: true, redirectable: false,
    }
    InternalError {
        code: 90003, oauth_error: Some(ServerError), status: 500,
        message: "An unexpected error occurred. The trace_id in this response identifies it in the server log.",
        causes: &[
            "A bug in Tessera or an unexpected state in its store.",
        ],
        developer_action: "Retry once. If it persists, report it with the trace_id and timestamp from the response.",
        user_action: "Try again. If it keeps happening, contact your administrator and quote the trace id.",
        retryable: true, redirectable: true,
    }
    MasterKeyMismatch {
        code: 90004, oauth_error: Some(ServerError), status: 503,
        message: "No key in the master key file opens this store: it was sealed by the master key with id {key_id}, and the file holds {ring}.",
        causes: &[
            "The node was started with another master key file than the one the store was created with.",
            "A rotation removed the old key from the file before every value sealed under it was re-sealed.",
        ],
        developer_action: "Start the node with the store's master key file. To rotate, put the new key on the first line of the file and keep the old one on a line below it until `tessera admin master-key` reports that nothing needs it.",
        user_action: "Contact your administrator.",
        retryable: false, redirectable: false,
    }
}
