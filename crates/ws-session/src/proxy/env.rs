//! Which proxy a connection uses: [`ProxyConfig`] (explicit, from the
//! environment, or none) and [`ProxyEnv`] (the proxy variables, read like
//! curl reads them).

use super::no_proxy::NoProxy;
use super::url::{Proxy, ProxyUrlError};

/// The proxy environment variables, read once. Each proxy variable is
/// looked up lowercase first, then uppercase (the lowercase one wins when
/// both are set, as in curl); a variable set to an empty string counts as
/// unset.
///
/// | URL | variables, in order |
/// | --- | --- |
/// | `ws://` | `ws_proxy`, `WS_PROXY`, `http_proxy`, `HTTP_PROXY`¹, `all_proxy`, `ALL_PROXY` |
/// | `wss://` | `wss_proxy`, `WSS_PROXY`, `https_proxy`, `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY` |
/// | both | `no_proxy`, `NO_PROXY`: hosts reached directly ([`NoProxy`]) |
///
/// ¹ `HTTP_PROXY` is ignored when `REQUEST_METHOD` is set: in a CGI
/// program, a request's `Proxy:` header arrives as `HTTP_PROXY`
/// ("httpoxy"). curl never reads `HTTP_PROXY`; Go and Python read it
/// outside CGI, as here.
///
/// Reading is injectable ([`ProxyEnv::from_lookup`]) so tests never touch
/// the process environment.
///
/// ```
/// use ws_session::proxy::{ProxyEnv, ProxyScheme};
///
/// let vars = [("HTTPS_PROXY", "http://proxy.corp:3128"), ("no_proxy", ".internal")];
/// let env = ProxyEnv::from_lookup(|name| {
///     vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
/// });
/// let proxy = env.proxy_for(true, "example.com", 443)?.expect("wss uses HTTPS_PROXY");
/// assert_eq!((proxy.scheme(), proxy.host(), proxy.port()), (ProxyScheme::Http, "proxy.corp", 3128));
/// assert_eq!(env.proxy_for(true, "db.internal", 443)?, None); // no_proxy
/// assert_eq!(env.proxy_for(false, "example.com", 80)?, None); // nothing for ws://
/// # Ok::<(), ws_session::proxy::EnvProxyError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    /// For `ws://`: the variable that won, and its value.
    plain: Option<(&'static str, String)>,
    /// For `wss://`.
    secure: Option<(&'static str, String)>,
    no_proxy: NoProxy,
}

/// A proxy variable whose value is not a usable proxy URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the environment variable {variable} does not hold a usable proxy URL: {source}")]
pub struct EnvProxyError {
    /// The variable, e.g. `HTTPS_PROXY`.
    pub variable: &'static str,
    /// What is wrong with its value.
    pub source: ProxyUrlError,
}

impl ProxyEnv {
    /// Reads the variables from the process environment.
    #[must_use]
    pub fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (name to value), e.g. from a
    /// test's table.
    #[must_use]
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |names: &[&'static str]| {
            names.iter().find_map(|&name| {
                lookup(name)
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (name, value))
            })
        };
        let cgi = lookup("REQUEST_METHOD").is_some();
        let http: &[&'static str] = if cgi {
            &[
                "ws_proxy",
                "WS_PROXY",
                "http_proxy",
                "all_proxy",
                "ALL_PROXY",
            ]
        } else {
            &[
                "ws_proxy",
                "WS_PROXY",
                "http_proxy",
                "HTTP_PROXY",
                "all_proxy",
                "ALL_PROXY",
            ]
        };
        ProxyEnv {
            plain: get(http),
            secure: get(&[
                "wss_proxy",
                "WSS_PROXY",
                "https_proxy",
                "HTTPS_PROXY",
                "all_proxy",
                "ALL_PROXY",
            ]),
            no_proxy: get(&["no_proxy", "NO_PROXY"])
                .map(|(_, list)| NoProxy::parse(&list))
                .unwrap_or_default(),
        }
    }

    /// The proxy for a `wss://` (`secure`) or `ws://` URL to `host:port`,
    /// or `None` for a direct connection (no variable set, or `no_proxy`
    /// matches).
    pub fn proxy_for(
        &self,
        secure: bool,
        host: &str,
        port: u16,
    ) -> Result<Option<Proxy>, EnvProxyError> {
        let chosen = if secure { &self.secure } else { &self.plain };
        let Some((variable, value)) = chosen else {
            return Ok(None);
        };
        if self.no_proxy.matches(host, port) {
            return Ok(None);
        }
        Proxy::parse(value)
            .map(Some)
            .map_err(|source| EnvProxyError { variable, source })
    }

    /// The variable that names the proxy for `ws://` (`secure == false`) or
    /// `wss://` URLs, if any: for messages such as "using `HTTPS_PROXY`".
    #[must_use]
    pub fn variable_for(&self, secure: bool) -> Option<&'static str> {
        let chosen = if secure { &self.secure } else { &self.plain };
        chosen.as_ref().map(|(name, _)| *name)
    }
}

/// Which proxy a client uses. The default is [`ProxyConfig::FromEnv`]:
/// like curl, a client honours the proxy variables unless told not to.
///
/// ```
/// use ws_session::proxy::{NoProxy, Proxy, ProxyConfig, ProxyEnv};
///
/// let env = ProxyEnv::from_lookup(|name| (name == "ALL_PROXY").then(|| "socks5h://tor:9050".into()));
/// // The environment, by default.
/// assert_eq!(ProxyConfig::default().select(&env, false, "example.com", 80)?.unwrap().host(), "tor");
/// // Off.
/// assert_eq!(ProxyConfig::Direct.select(&env, false, "example.com", 80)?, None);
/// // Explicit wins over the environment, with its own bypass list.
/// let explicit = ProxyConfig::explicit(Proxy::parse("http://proxy:3128")?)
///     .bypass(NoProxy::parse("localhost"));
/// assert_eq!(explicit.select(&env, false, "example.com", 80)?.unwrap().host(), "proxy");
/// assert_eq!(explicit.select(&env, false, "localhost", 80)?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// Use the proxy environment variables ([`ProxyEnv`]), read at each
    /// connect.
    #[default]
    FromEnv,
    /// Never use a proxy, whatever the environment says.
    Direct,
    /// These variables instead of the process's ([`ProxyEnv::from_lookup`]):
    /// for a program that keeps its own settings, and for tests (the
    /// process environment is shared by every thread).
    Env(ProxyEnv),
    /// Always use this proxy, except for the hosts in `bypass`; the
    /// environment is not read at all (not even `NO_PROXY`).
    Explicit {
        /// The proxy.
        proxy: Proxy,
        /// Hosts reached directly (empty: none).
        bypass: NoProxy,
    },
}

impl ProxyConfig {
    /// Always `proxy` (no bypass list; add one with
    /// [`bypass`](Self::bypass)).
    #[must_use]
    pub fn explicit(proxy: Proxy) -> Self {
        ProxyConfig::Explicit {
            proxy,
            bypass: NoProxy::default(),
        }
    }

    /// Sets the hosts an explicit proxy is not used for; no effect on
    /// the other variants (the environment has its own `NO_PROXY`).
    #[must_use]
    pub fn bypass(self, list: NoProxy) -> Self {
        match self {
            ProxyConfig::Explicit { proxy, .. } => ProxyConfig::Explicit {
                proxy,
                bypass: list,
            },
            other => other,
        }
    }

    /// The proxy for a `wss://` (`secure`) or `ws://` URL to `host:port`
    /// under this configuration, or `None` for a direct connection. `env`
    /// is consulted only for [`ProxyConfig::FromEnv`] (pass
    /// [`ProxyEnv::from_process`] in production).
    pub fn select(
        &self,
        env: &ProxyEnv,
        secure: bool,
        host: &str,
        port: u16,
    ) -> Result<Option<Proxy>, EnvProxyError> {
        match self {
            ProxyConfig::FromEnv => env.proxy_for(secure, host, port),
            ProxyConfig::Env(own) => own.proxy_for(secure, host, port),
            ProxyConfig::Direct => Ok(None),
            ProxyConfig::Explicit { proxy, bypass } => {
                Ok((!bypass.matches(host, port)).then(|| proxy.clone()))
            }
        }
    }

    /// Whether [`select`](Self::select) reads the environment (so a caller
    /// can skip building a [`ProxyEnv`] otherwise).
    #[must_use]
    pub fn uses_env(&self) -> bool {
        matches!(self, ProxyConfig::FromEnv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ProxyScheme;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ProxyEnv::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn chosen(env: &ProxyEnv, secure: bool) -> Option<String> {
        env.proxy_for(secure, "example.com", if secure { 443 } else { 80 })
            .unwrap()
            .map(|p| p.host().to_owned())
    }

    #[test]
    fn lowercase_wins_and_scheme_variables_win_over_all_proxy() {
        let e = env(&[
            ("https_proxy", "lower"),
            ("HTTPS_PROXY", "upper"),
            ("ALL_PROXY", "all"),
        ]);
        assert_eq!(chosen(&e, true).as_deref(), Some("lower"));
        assert_eq!(chosen(&e, false).as_deref(), Some("all"));
        assert_eq!(e.variable_for(true), Some("https_proxy"));
        let e = env(&[
            ("HTTPS_PROXY", "upper"),
            ("all_proxy", "all-lower"),
            ("ALL_PROXY", "all"),
        ]);
        assert_eq!(chosen(&e, true).as_deref(), Some("upper"));
        assert_eq!(chosen(&e, false).as_deref(), Some("all-lower"));
        // ws_proxy / wss_proxy come first (curl's WebSocket names).
        let e = env(&[
            ("wss_proxy", "wss"),
            ("https_proxy", "https"),
            ("WS_PROXY", "ws"),
            ("http_proxy", "http"),
        ]);
        assert_eq!(chosen(&e, true).as_deref(), Some("wss"));
        assert_eq!(chosen(&e, false).as_deref(), Some("ws"));
        // http_proxy / HTTP_PROXY are for ws:// only, https_proxy for wss:// only.
        let e = env(&[("HTTP_PROXY", "http")]);
        assert_eq!(
            (chosen(&e, false).as_deref(), chosen(&e, true)),
            (Some("http"), None)
        );
        assert_eq!(chosen(&env(&[("https_proxy", "s")]), false), None);
    }

    #[test]
    fn http_proxy_uppercase_is_ignored_under_cgi_and_empty_means_unset() {
        let e = env(&[("HTTP_PROXY", "from-a-header"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(chosen(&e, false), None);
        let e = env(&[("http_proxy", "lower"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(chosen(&e, false).as_deref(), Some("lower"));
        let e = env(&[
            ("https_proxy", ""),
            ("HTTPS_PROXY", "upper"),
            ("no_proxy", " "),
        ]);
        assert_eq!(chosen(&e, true).as_deref(), Some("upper"));
        assert_eq!(chosen(&env(&[]), true), None);
    }

    #[test]
    fn no_proxy_bypasses_lowercase_first() {
        let e = env(&[
            ("ALL_PROXY", "http://p:1"),
            ("no_proxy", "example.com"),
            ("NO_PROXY", "*"),
        ]);
        assert_eq!(e.proxy_for(true, "www.example.com", 443).unwrap(), None);
        assert!(e.proxy_for(true, "example.org", 443).unwrap().is_some());
        let e = env(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", "127.0.0.0/8,::1")]);
        assert_eq!(e.proxy_for(false, "127.0.0.1", 9000).unwrap(), None);
        assert_eq!(e.proxy_for(false, "[::1]", 9000).unwrap(), None);
        assert!(e.proxy_for(false, "localhost", 9000).unwrap().is_some());
    }

    #[test]
    fn a_bad_variable_is_a_typed_error_naming_it() {
        let e = env(&[("HTTPS_PROXY", "ftp://user:secret@proxy")]);
        let err = e.proxy_for(true, "example.com", 443).unwrap_err();
        assert_eq!(err.variable, "HTTPS_PROXY");
        assert!(matches!(
            err.source,
            ProxyUrlError::UnsupportedScheme { .. }
        ));
        assert!(err.to_string().contains("HTTPS_PROXY") && !err.to_string().contains("secret"));
        // A bypassed host never looks at the bad value.
        let e = env(&[("HTTPS_PROXY", "ftp://proxy"), ("NO_PROXY", "*")]);
        assert_eq!(e.proxy_for(true, "example.com", 443), Ok(None));
    }

    #[test]
    fn config_direct_explicit_and_env() {
        let e = env(&[
            ("ALL_PROXY", "socks5://envproxy:1080"),
            ("NO_PROXY", "example.com"),
        ]);
        let explicit = ProxyConfig::explicit(Proxy::new(ProxyScheme::Http, "mine", 3128));
        // Explicit ignores the environment entirely, NO_PROXY included.
        assert_eq!(
            explicit
                .select(&e, true, "example.com", 443)
                .unwrap()
                .unwrap()
                .host(),
            "mine"
        );
        let bypassing = explicit.clone().bypass(NoProxy::parse("example.com"));
        assert_eq!(
            bypassing.select(&e, true, "example.com", 443).unwrap(),
            None
        );
        assert_eq!(
            ProxyConfig::Direct
                .select(&e, true, "other.org", 443)
                .unwrap(),
            None
        );
        let from_env = ProxyConfig::default()
            .select(&e, true, "other.org", 443)
            .unwrap()
            .unwrap();
        assert_eq!(from_env.scheme(), ProxyScheme::Socks5);
        assert_eq!(
            ProxyConfig::default()
                .select(&e, true, "example.com", 443)
                .unwrap(),
            None
        );
        assert!(ProxyConfig::default().uses_env() && !explicit.uses_env());
        assert_eq!(
            ProxyConfig::Direct.bypass(NoProxy::parse("x")),
            ProxyConfig::Direct
        );
        // Its own variables: the process's (`e` here) are not read.
        let own = ProxyConfig::Env(env(&[("https_proxy", "own:1")]));
        assert_eq!(
            own.select(&e, true, "example.com", 443)
                .unwrap()
                .unwrap()
                .host(),
            "own"
        );
        assert_eq!(own.select(&e, false, "example.com", 80).unwrap(), None);
        assert!(!own.uses_env());
    }
}
