//! The simulated systems.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// One simulated remote system. Faults are set per system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    /// 旺店通·企业版 openapi2.
    Wdt,
    /// 奇门 (TOP) gateway, for both 旺店通 and 吉客云 methods.
    Qimen,
    /// 聚水潭 open API.
    Jst,
    /// 吉客云 open API.
    Jackyun,
    /// 金蝶云星空 WebAPI.
    K3cloud,
    /// 金蝶云星辰.
    Jdy,
}

impl System {
    pub const ALL: [System; 6] = [
        System::Wdt,
        System::Qimen,
        System::Jst,
        System::Jackyun,
        System::K3cloud,
        System::Jdy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            System::Wdt => "wdt",
            System::Qimen => "qimen",
            System::Jst => "jst",
            System::Jackyun => "jackyun",
            System::K3cloud => "k3cloud",
            System::Jdy => "jdy",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            System::Wdt => 0,
            System::Qimen => 1,
            System::Jst => 2,
            System::Jackyun => 3,
            System::K3cloud => 4,
            System::Jdy => 5,
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for System {
    type Err = SimError;

    fn from_str(s: &str) -> Result<System, SimError> {
        System::ALL
            .into_iter()
            .find(|sys| sys.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| SimError::UnknownSystem(s.to_string()))
    }
}
