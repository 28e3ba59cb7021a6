//! Integration tests of weft-sim over real HTTP on loopback: one binary,
//! a module per system (see STYLE.md: one test binary links once).

mod binary;
mod common;
mod control;
mod faults;
mod jackyun;
mod jdy;
mod jst;
mod k3cloud;
mod k3cloud_python_sdk;
mod qimen;
mod wdt;
