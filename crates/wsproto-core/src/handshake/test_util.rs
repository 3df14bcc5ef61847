//! Test-only helpers: a tiny extension factory (permessage-deflate lives
//! elsewhere) and input splitting.

use std::sync::Arc;

use bytes::BytesMut;

use crate::config::Config;
use crate::error::ExtensionError;
use crate::extension::{Extension, ExtensionFactory, ExtensionHeader, NegotiationError};
use crate::frame::{OpCode, Rsv};

/// Offers `name` (with `param` when set), accepts any response without
/// unknown parameters, and on the server accepts the first offer.
#[derive(Debug)]
pub(crate) struct TestFactory {
    pub(crate) name: &'static str,
    pub(crate) rsv: Rsv,
    pub(crate) param: Option<&'static str>,
}

impl TestFactory {
    pub(crate) fn arc(name: &'static str, rsv: Rsv) -> Arc<dyn ExtensionFactory> {
        Arc::new(TestFactory {
            name,
            rsv,
            param: None,
        })
    }
}

impl ExtensionFactory for TestFactory {
    fn name(&self) -> &'static str {
        self.name
    }

    fn client_offers(&self) -> Vec<ExtensionHeader> {
        let offer = ExtensionHeader::new(self.name);
        vec![match self.param {
            Some(p) => offer.param(p, None::<String>),
            None => offer,
        }]
    }

    fn client_accept(
        &self,
        response: &ExtensionHeader,
    ) -> Result<Box<dyn Extension>, NegotiationError> {
        if let Some((param, _)) = response
            .params
            .iter()
            .find(|(p, _)| Some(p.as_str()) != self.param)
        {
            return Err(NegotiationError::UnknownParameter {
                extension: self.name,
                param: param.clone(),
            });
        }
        Ok(Box::new(TestExtension {
            name: self.name,
            rsv: self.rsv,
        }))
    }

    fn server_accept(
        &self,
        offers: &[&ExtensionHeader],
    ) -> Option<(ExtensionHeader, Box<dyn Extension>)> {
        let first = offers.first()?;
        if first.params.iter().any(|(p, _)| p == "decline") {
            return None;
        }
        Some((
            ExtensionHeader::new(self.name),
            Box::new(TestExtension {
                name: self.name,
                rsv: self.rsv,
            }),
        ))
    }
}

#[derive(Debug)]
pub(crate) struct TestExtension {
    name: &'static str,
    rsv: Rsv,
}

impl Extension for TestExtension {
    fn name(&self) -> &'static str {
        self.name
    }

    fn rsv(&self) -> Rsv {
        self.rsv
    }

    fn encode_message(
        &mut self,
        _opcode: OpCode,
        _payload: &[u8],
        _out: &mut BytesMut,
    ) -> Result<bool, ExtensionError> {
        Ok(false)
    }

    fn decode_frame(
        &mut self,
        payload: &[u8],
        _fin: bool,
        out: &mut BytesMut,
        _max_len: usize,
    ) -> Result<(), ExtensionError> {
        out.extend_from_slice(payload);
        Ok(())
    }
}

/// A config with the given test extensions.
pub(crate) fn config_with(factories: &[Arc<dyn ExtensionFactory>]) -> Config {
    factories
        .iter()
        .fold(Config::default(), |c, f| c.with_extension(Arc::clone(f)))
}

/// `input` fed in two pieces split at `at`, then the rest concatenated:
/// calls `feed` until it returns `Some`, and returns it with the bytes not
/// yet fed.
pub(crate) fn feed_split<T>(
    input: &[u8],
    at: usize,
    mut feed: impl FnMut(&[u8]) -> Option<T>,
) -> (Option<T>, Vec<u8>) {
    let (a, b) = input.split_at(at);
    if let Some(r) = feed(a) {
        return (Some(r), b.to_vec());
    }
    (feed(b), Vec::new())
}
