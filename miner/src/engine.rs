//! The text engine: one seed's rows of `[name, dob, address]` and its UAV.
//!
//! The default engine needs no model and no network: names from [`crate::names`] (aimed at the
//! query's similarity bins and rules, predicted with the scoring crate), DOBs from
//! [`crate::dob`] (every graded category), addresses from an [`AddressSource`] checked with the
//! validator's own heuristics ([`crate::address`]), and the UAV from [`crate::uav`].

use miid_protocol::synapse::{Seed, Uav};

use crate::address::{AddressSource, GeonamesAddresses, checked_addresses};
use crate::query::QuerySpec;

/// Produces the rows of one seed.
pub trait TextEngine: Send + Sync {
    /// `spec.variation_count` rows of `[name, dob, address]` for `seed`.
    fn variations(&self, seed: &Seed, spec: &QuerySpec, rng: &mut dyn rand::RngCore) -> Vec<Vec<String>>;
    /// An address in the seed's country that looks legitimate but may fail geocoding.
    fn uav(&self, seed: &Seed, rng: &mut dyn rand::RngCore) -> Uav;
}

/// The default engine with the default (offline) address source.
#[derive(Debug, Default, Clone)]
pub struct SimpleEngine;

impl TextEngine for SimpleEngine {
    fn variations(&self, seed: &Seed, spec: &QuerySpec, rng: &mut dyn rand::RngCore) -> Vec<Vec<String>> {
        rows(seed, spec, &GeonamesAddresses, rng)
    }

    fn uav(&self, seed: &Seed, rng: &mut dyn rand::RngCore) -> Uav {
        crate::uav::uav_for(&seed.address, rng)
    }
}

/// The default engine over another address source (a Nominatim-compatible service, say).
pub struct RulesEngine {
    addresses: Box<dyn AddressSource>,
}

impl RulesEngine {
    pub fn new(addresses: Box<dyn AddressSource>) -> Self {
        RulesEngine { addresses }
    }
}

impl TextEngine for RulesEngine {
    fn variations(&self, seed: &Seed, spec: &QuerySpec, rng: &mut dyn rand::RngCore) -> Vec<Vec<String>> {
        rows(seed, spec, self.addresses.as_ref(), rng)
    }

    fn uav(&self, seed: &Seed, rng: &mut dyn rand::RngCore) -> Uav {
        crate::uav::uav_for(&seed.address, rng)
    }
}

/// The rows of one seed: as many names as could be made, each with a DOB and an address.
fn rows(seed: &Seed, spec: &QuerySpec, addresses: &dyn AddressSource, rng: &mut dyn rand::RngCore) -> Vec<Vec<String>> {
    let names = crate::names::variations(&seed.name, spec, rng);
    let dobs = crate::dob::variations(&seed.dob, names.len());
    let addresses = checked_addresses(addresses, &seed.address, names.len(), rng);
    names.into_iter().zip(dobs).zip(addresses).map(|((name, dob), address)| vec![name, dob, address]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rows_are_complete_and_distinct() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let spec = crate::query::parse(
            "Generate 12 variations of the name {name}, ensuring phonetic similarity: 30% Light, 40% Medium, 30% Far, and orthographic similarity: 20% Light, 60% Medium, 20% Far, and also include 25% of variations that follow: Additionally, generate variations that: Delete a random letter.",
        );
        for (name, dob, address) in [
            ("John Smith", "1990-05-14", "United States"),
            ("Иван Петров", "1970-07-07", "Russia"),
            ("王伟", "1975-08-19", "China"),
        ] {
            let seed = Seed { name: name.into(), dob: dob.into(), address: address.into() };
            let rows = SimpleEngine.variations(&seed, &spec, &mut rng);
            assert_eq!(rows.len(), 12, "{name}");
            let rows_json: Vec<serde_json::Value> = rows.iter().map(|r| serde_json::json!(r)).collect();
            let mut map = indexmap::IndexMap::new();
            map.insert(name.to_owned(), rows_json);
            let c = miid_scoring::kav::completeness(&map, &[name], 12);
            assert_eq!(c.total_penalty, 0.0, "{name}: {c:?}");
            for r in &rows {
                assert!(crate::address::check(&r[2], address).passed(), "{r:?}");
            }
        }
    }
}
