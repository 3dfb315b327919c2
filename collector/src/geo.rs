//! Country and city of a client IP, from a MaxMind-format database when one is configured.

use std::net::IpAddr;
use std::path::Path;

use maxminddb::{geoip2, Reader};

use crate::summary::Geo;

/// A loaded GeoIP database.
pub struct GeoIp {
    reader: Reader<Vec<u8>>,
}

/// The database could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("opening GeoIP database {path}: {message}")]
pub struct GeoIpError {
    path: String,
    message: String,
}

impl GeoIp {
    /// Loads the database file into memory.
    pub fn open(path: &Path) -> Result<GeoIp, GeoIpError> {
        Reader::open_readfile(path)
            .map(|reader| GeoIp { reader })
            .map_err(|e| GeoIpError { path: path.display().to_string(), message: e.to_string() })
    }

    /// Where `ip` is, as far as the database knows; empty when it doesn't.
    pub fn locate(&self, ip: IpAddr) -> Geo {
        let record = self.reader.lookup(ip).ok().and_then(|found| found.decode::<geoip2::City>().ok().flatten());
        match record {
            Some(city) => Geo {
                country: city.country.iso_code.map(str::to_owned),
                city: city.city.names.english.map(str::to_owned),
            },
            None => Geo::default(),
        }
    }
}
