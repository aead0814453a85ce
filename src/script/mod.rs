pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod libs;
pub mod structlib;
