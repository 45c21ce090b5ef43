"""Supply-chain matchmaking (产业链对接) and events; see market.supply.operations."""
