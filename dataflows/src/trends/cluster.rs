//! The clustering rule's parameters and vote: synchronous label propagation, labels ordered by node.

use super::Node;

/// A cluster label: the node of the article it started from; the smaller label wins ties.
pub type Label = Node;

/// Clustering parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterConfig {
    /// Rounds of label propagation. Propagation need not converge (it can oscillate), so it
    /// always runs exactly this many rounds; most inputs reach a fixed point well before.
    pub rounds: u32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig { rounds: 10 }
    }
}
