"""Business case studies: small seeded synthetic datasets and the measures that turn
model outputs into value, cost and risk figures. Import from the submodule."""
