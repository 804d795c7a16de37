//! Addresses for the demo stacks: IPv4 subnets that do not collide with the engine's
//! networks, and host ports that are free. Pure: the caller says what is taken.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network in CIDR notation, normalised to its network address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IPv4 subnet like 172.18.0.0/16")]
pub struct BadCidr(pub String);

impl Ipv4Cidr {
    pub fn new(address: Ipv4Addr, prefix: u8) -> Option<Ipv4Cidr> {
        (prefix <= 32).then(|| Ipv4Cidr { network: u32::from(address) & mask(prefix), prefix })
    }

    pub fn address(self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    pub fn prefix(self) -> u8 {
        self.prefix
    }

    fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    fn last(self) -> u32 {
        self.network | !mask(self.prefix)
    }

    /// Whether the two networks share at least one address.
    pub fn overlaps(self, other: Ipv4Cidr) -> bool {
        self.network <= other.last() && other.network <= self.last()
    }

    /// Whether `other` lies entirely inside this network.
    pub fn contains(self, other: Ipv4Cidr) -> bool {
        self.prefix <= other.prefix && self.network == other.network & mask(self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) }
}

impl FromStr for Ipv4Cidr {
    type Err = BadCidr;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadCidr(text.to_string());
        let (address, prefix) = text.trim().split_once('/').ok_or_else(bad)?;
        let address: Ipv4Addr = address.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        Ipv4Cidr::new(address, prefix).ok_or_else(bad)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address(), self.prefix)
    }
}

/// The private ranges of RFC 1918, in the order fallbacks are tried.
fn private_ranges() -> [Ipv4Cidr; 3] {
    [
        Ipv4Cidr { network: u32::from(Ipv4Addr::new(172, 16, 0, 0)), prefix: 12 },
        Ipv4Cidr { network: u32::from(Ipv4Addr::new(10, 0, 0, 0)), prefix: 8 },
        Ipv4Cidr { network: u32::from(Ipv4Addr::new(192, 168, 0, 0)), prefix: 16 },
    ]
}

/// The subnet the design asks for when it is free, else the first free network of the
/// same prefix length: first after it (wrapping) in the private range that holds it,
/// then in the other private ranges. Deterministic for the same `taken`.
pub fn choose_subnet(wanted: Ipv4Cidr, taken: &[Ipv4Cidr]) -> Option<Ipv4Cidr> {
    let free = |candidate: Ipv4Cidr| !taken.iter().any(|t| t.overlaps(candidate));
    if free(wanted) {
        return Some(wanted);
    }
    let home = private_ranges()
        .into_iter()
        .find(|range| range.contains(wanted))
        .unwrap_or(Ipv4Cidr { network: wanted.network & mask(8), prefix: wanted.prefix.min(8) });
    let mut ranges = vec![home];
    ranges.extend(private_ranges().into_iter().filter(|r| *r != home));
    for range in ranges {
        if range.prefix > wanted.prefix {
            continue;
        }
        let count = range.size() / wanted.size();
        // Start just after the wanted network when it lies in this range.
        let start = if range.contains(wanted) {
            (u64::from(wanted.network - range.network) / wanted.size() + 1) % count
        } else {
            0
        };
        for step in 0..count {
            let index = (start + step) % count;
            let Ok(offset) = u32::try_from(index * wanted.size()) else { continue };
            let candidate = Ipv4Cidr { network: range.network + offset, prefix: wanted.prefix };
            if free(candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// The host port the design asks for when it is free, else that port plus 10000, 20000...
/// (so 5432 becomes 15432, easy to recognise), else the next free port above it.
pub fn choose_host_port(wanted: u16, taken: &BTreeSet<u16>) -> Option<u16> {
    let free = |port: u16| port != 0 && !taken.contains(&port);
    let shifted = (0..=6u32).filter_map(|k| u16::try_from(u32::from(wanted) + k * 10_000).ok());
    let upward =
        (u32::from(wanted) + 1..=u32::from(u16::MAX)).filter_map(|p| u16::try_from(p).ok());
    let downward = (1024..u32::from(wanted)).rev().filter_map(|p| u16::try_from(p).ok());
    shifted.chain(upward).chain(downward).find(|p| free(*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Ipv4Cidr {
        text.parse().unwrap()
    }

    #[test]
    fn parses_normalises_and_prints() {
        assert_eq!(cidr("172.18.0.0/16").to_string(), "172.18.0.0/16");
        assert_eq!(cidr("172.18.3.4/16").to_string(), "172.18.0.0/16");
        assert_eq!(cidr("10.1.2.3/32").to_string(), "10.1.2.3/32");
        assert_eq!(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
        for bad in ["172.18.0.0", "172.18.0.0/33", "300.1.1.1/8", "fd00::/64", "x/8"] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_and_containment() {
        assert!(cidr("172.16.0.0/12").overlaps(cidr("172.18.0.0/16")));
        assert!(cidr("172.18.0.0/16").overlaps(cidr("172.16.0.0/12")));
        assert!(cidr("172.18.5.0/24").overlaps(cidr("172.18.0.0/16")));
        assert!(!cidr("172.17.0.0/16").overlaps(cidr("172.18.0.0/16")));
        assert!(cidr("172.16.0.0/12").contains(cidr("172.31.0.0/16")));
        assert!(!cidr("172.18.0.0/16").contains(cidr("172.16.0.0/12")));
    }

    #[test]
    fn a_free_seed_subnet_is_kept() {
        let taken = [cidr("172.17.0.0/16")];
        assert_eq!(choose_subnet(cidr("172.18.0.0/16"), &taken), Some(cidr("172.18.0.0/16")));
    }

    #[test]
    fn a_taken_seed_subnet_moves_to_the_next_free_block_of_the_same_size() {
        let taken = [cidr("172.17.0.0/16"), cidr("172.18.0.0/16"), cidr("172.19.0.0/16")];
        assert_eq!(choose_subnet(cidr("172.18.0.0/16"), &taken), Some(cidr("172.20.0.0/16")));
        // A smaller network inside the wanted one also makes it unusable.
        let taken = [cidr("172.25.1.0/24")];
        assert_eq!(choose_subnet(cidr("172.25.0.0/16"), &taken), Some(cidr("172.26.0.0/16")));
    }

    #[test]
    fn the_search_wraps_inside_the_range_then_tries_the_other_private_ranges() {
        let taken = [cidr("172.31.0.0/16")];
        assert_eq!(choose_subnet(cidr("172.31.0.0/16"), &taken), Some(cidr("172.16.0.0/16")));
        let taken = [cidr("172.16.0.0/12")];
        assert_eq!(choose_subnet(cidr("172.25.0.0/16"), &taken), Some(cidr("10.0.0.0/16")));
        let taken = [cidr("172.16.0.0/12"), cidr("10.0.0.0/8")];
        assert_eq!(choose_subnet(cidr("172.25.0.0/16"), &taken), Some(cidr("192.168.0.0/16")));
        let taken = [cidr("172.16.0.0/12"), cidr("10.0.0.0/8"), cidr("192.168.0.0/16")];
        assert_eq!(choose_subnet(cidr("172.25.0.0/16"), &taken), None);
    }

    #[test]
    fn the_choice_is_deterministic_and_keeps_the_prefix_length() {
        let taken = [cidr("172.17.0.0/16"), cidr("172.18.0.0/16"), cidr("172.20.0.0/14")];
        let first = choose_subnet(cidr("172.18.0.0/16"), &taken);
        assert_eq!(first, choose_subnet(cidr("172.18.0.0/16"), &taken));
        let chosen = first.unwrap();
        assert_eq!(chosen.prefix(), 16);
        assert_eq!(chosen, cidr("172.19.0.0/16"));
        assert!(taken.iter().all(|t| !t.overlaps(chosen)));
    }

    #[test]
    fn ports_fall_back_to_plus_ten_thousand_then_upward() {
        let none = BTreeSet::new();
        assert_eq!(choose_host_port(5432, &none), Some(5432));
        let taken: BTreeSet<u16> = [5432].into();
        assert_eq!(choose_host_port(5432, &taken), Some(15432));
        let taken: BTreeSet<u16> = [80, 10080].into();
        assert_eq!(choose_host_port(80, &taken), Some(20080));
        let taken: BTreeSet<u16> = [60000].into();
        assert_eq!(choose_host_port(60000, &taken), Some(60001));
        let taken: BTreeSet<u16> = [65535].into();
        assert_eq!(choose_host_port(65535, &taken), Some(65534));
    }
}
