"""NCERT Biology content for the demo data: the classic chapter lists of class 11 (22) and class 12 (16).

Each chapter has its topics, two short note paragraphs and a table of facts: a noun ("Which <kind> ...?")
and (term, predicate) pairs. The seed turns each pair into NEET-style questions: one asks which term the
predicate describes, one asks which statement is true of the term; the other pairs are the distractors.
"""

from __future__ import annotations

from typing import NamedTuple


class Chapter(NamedTuple):
    grade: str
    number: int
    name: str
    topics: tuple[str, ...]
    paragraphs: tuple[str, ...]
    kind: str
    facts: tuple[tuple[str, str], ...]


CLASS_11 = (
    Chapter(
        "11",
        1,
        "The Living World",
        ("Diversity in the living world", "Taxonomic categories", "Taxonomical aids"),
        (
            "Living organisms grow, reproduce, sense their environment and carry out metabolism. Of these, "
            "metabolism and consciousness are defining properties, because growth and reproduction are absent "
            "in some living individuals (a mule, a worker bee) and growth also occurs in non-living crystals.",
            "Systematics names, identifies and classifies organisms. Binomial nomenclature, proposed by Carolus "
            "Linnaeus, gives every species a generic name and a specific epithet, printed in italics or "
            "underlined when handwritten: *Mangifera indica*. Categories run from kingdom down to species.",
        ),
        "taxonomical aid",
        (
            ("Herbarium", "is a store of pressed, dried plant specimens mounted on sheets"),
            ("Botanical garden", "keeps living plants grown for identification and reference"),
            ("Museum", "keeps preserved animal specimens in jars or as stuffed skins and skeletons"),
            ("Key", "identifies organisms using contrasting characters called couplets"),
            ("Monograph", "gives information on any one taxon"),
            ("Zoological park", "keeps wild animals in protected environments similar to their natural habitats"),
        ),
    ),
    Chapter(
        "11",
        2,
        "Biological Classification",
        ("Five kingdom classification", "Kingdom Monera and Protista", "Viruses, viroids and lichens"),
        (
            "R.H. Whittaker (1969) proposed five kingdoms: Monera, Protista, Fungi, Plantae and Animalia, using "
            "cell structure, body organisation, mode of nutrition, reproduction and phylogenetic relationships.",
            "Viruses are not included in any kingdom: they are obligate parasites with either RNA or DNA, "
            "inert crystals outside a host cell. Viroids, discovered by T.O. Diener, are free RNA without a "
            "protein coat and cause potato spindle tuber disease.",
        ),
        "group of organisms",
        (
            ("Archaebacteria", "lives in extreme habitats such as hot springs and salty areas"),
            ("Cyanobacteria", "has chlorophyll a and often forms blooms in polluted water bodies"),
            ("Diatoms", "has cell walls of silica that form diatomaceous earth"),
            ("Dinoflagellates", "causes red tides when its members multiply rapidly"),
            ("Euglenoids", "photosynthesises in sunlight but behaves as a heterotroph in its absence"),
            ("Slime moulds", "forms plasmodia that grow to several feet under suitable conditions"),
        ),
    ),
    Chapter(
        "11",
        3,
        "Plant Kingdom",
        ("Algae", "Bryophytes and pteridophytes", "Gymnosperms and angiosperms"),
        (
            "Plants are classified into algae, bryophytes, pteridophytes, gymnosperms and angiosperms. Bryophytes "
            "are the amphibians of the plant kingdom: they live on soil but need water for fertilisation.",
            "Pteridophytes are the first terrestrial plants with vascular tissues, xylem and phloem. Gymnosperms "
            "bear naked ovules, while in angiosperms the ovules are enclosed within an ovary.",
        ),
        "algal class",
        (
            ("Chlorophyceae", "stores food as starch and has chlorophyll a and b as its main pigments"),
            ("Phaeophyceae", "stores food as laminarin or mannitol and has fucoxanthin"),
            ("Rhodophyceae", "stores food as floridean starch and has r-phycoerythrin"),
            ("Bacillariophyceae", "is made up of diatoms with silica in their walls"),
            ("Cyanophyceae", "is the class of blue-green algae in the older classifications"),
        ),
    ),
    Chapter(
        "11",
        4,
        "Animal Kingdom",
        ("Basis of classification", "Non-chordate phyla", "Phylum Chordata"),
        (
            "Animals are classified by levels of organisation, symmetry, germ layers, coelom, segmentation and "
            "the notochord. Sponges are at the cellular level; coelenterates at the tissue level; platyhelminthes "
            "and higher phyla at the organ-system level.",
            "Chordates have a notochord, a dorsal hollow nerve cord and paired pharyngeal gill slits at some "
            "stage of life. Vertebrates are chordates in which the notochord is replaced by a vertebral column.",
        ),
        "animal phylum",
        (
            ("Porifera", "has water canal system and choanocytes lining its spongocoel"),
            ("Coelenterata", "has cnidoblasts used for anchorage, defence and capture of prey"),
            ("Ctenophora", "has eight external rows of ciliated comb plates for locomotion"),
            ("Platyhelminthes", "has flame cells that help in osmoregulation and excretion"),
            ("Annelida", "has metameric segmentation and nephridia for excretion"),
            ("Echinodermata", "has a water vascular system used for locomotion and feeding"),
        ),
    ),
    Chapter(
        "11",
        5,
        "Morphology of Flowering Plants",
        ("Root, stem and leaf", "Inflorescence and flower", "Fruit, seed and families"),
        (
            "A typical angiosperm has a root system below ground and a shoot system of stem, leaves, flowers and "
            "fruits above. Roots, stems and leaves are modified for storage, support, protection and perennation.",
            "A flower is a modified shoot. Its position of the ovary relative to other floral parts is "
            "hypogynous, perigynous or epigynous, and aestivation describes how sepals or petals are arranged "
            "in the bud.",
        ),
        "modification",
        (
            ("Pneumatophores", "helps roots of mangroves like Rhizophora get oxygen for respiration"),
            ("Stem tendrils", "helps weak stems of cucumber and grapes climb"),
            ("Thorns of Bougainvillea", "are modified axillary buds that protect the plant from browsing animals"),
            ("Phylloclade of Opuntia", "is a flattened green stem that photosynthesises"),
            ("Prop roots of banyan", "arise from branches and support the spreading tree"),
            ("Leaf spines of cacti", "reduce water loss in desert plants"),
        ),
    ),
    Chapter(
        "11",
        6,
        "Anatomy of Flowering Plants",
        ("Tissues", "Tissue systems", "Secondary growth"),
        (
            "Plant tissues are meristematic or permanent. Apical meristems add length; the vascular cambium and "
            "cork cambium are lateral meristems that add girth during secondary growth.",
            "Dicot stems have vascular bundles in a ring, open with cambium; monocot stems have scattered, closed "
            "bundles surrounded by a sclerenchymatous bundle sheath.",
        ),
        "plant tissue",
        (
            ("Collenchyma", "has cells thickened at the corners with cellulose, hemicellulose and pectin"),
            ("Sclerenchyma", "has dead cells with lignified walls, as fibres and sclereids"),
            ("Xylem", "conducts water and minerals from roots to stem and leaves"),
            ("Phloem", "transports food from leaves to other parts through sieve tubes"),
            ("Parenchyma", "is made of thin-walled living cells that photosynthesise, store and secrete"),
        ),
    ),
    Chapter(
        "11",
        7,
        "Structural Organisation in Animals",
        ("Animal tissues", "Organ and organ system", "Cockroach"),
        (
            "The four basic animal tissues are epithelial, connective, muscular and neural. Connective tissues "
            "are the most abundant and link and support other tissues.",
            "In the cockroach *Periplaneta americana*, the body is divided into head, thorax and abdomen. Its "
            "open circulatory system has colourless haemolymph, and excretion is by Malpighian tubules.",
        ),
        "animal tissue",
        (
            ("Squamous epithelium", "forms the walls of blood vessels and air sacs of lungs"),
            ("Cuboidal epithelium", "lines ducts of glands and the tubular parts of nephrons"),
            ("Adipose tissue", "stores fats in cells located mainly beneath the skin"),
            ("Cardiac muscle", "is a contractile tissue with intercalated discs found only in the heart"),
            ("Dense regular connective tissue", "forms tendons and ligaments with parallel collagen fibres"),
        ),
    ),
    Chapter(
        "11",
        8,
        "Cell: The Unit of Life",
        ("Cell theory", "Prokaryotic cells", "Eukaryotic cell organelles"),
        (
            "Schleiden and Schwann proposed the cell theory; Rudolf Virchow added that cells arise from "
            "pre-existing cells (*omnis cellula-e cellula*). The cell is the structural and functional unit of life.",
            "Eukaryotic cells have membrane-bound organelles. The endomembrane system (ER, Golgi, lysosomes, "
            "vacuoles) works together; mitochondria and chloroplasts are not part of it and have their own DNA.",
        ),
        "cell organelle",
        (
            ("Mitochondrion", "is the site of aerobic respiration and makes most of the cell's ATP"),
            ("Golgi apparatus", "packages materials and is the main site of glycoprotein and glycolipid formation"),
            ("Lysosome", "contains hydrolytic enzymes that are active at acidic pH"),
            ("Ribosome", "is a non-membrane-bound organelle where proteins are synthesised"),
            ("Rough endoplasmic reticulum", "has ribosomes on its surface and is active in protein secretion"),
            ("Centriole", "forms the basal body of cilia and flagella and the spindle in animal cells"),
        ),
    ),
    Chapter(
        "11",
        9,
        "Biomolecules",
        ("Primary and secondary metabolites", "Proteins and polysaccharides", "Enzymes"),
        (
            "Biomolecules include amino acids, sugars, nucleotides and lipids, and the macromolecules built from "
            "them: proteins, polysaccharides and nucleic acids. Lipids are not strictly macromolecules but appear "
            "in the acid-insoluble fraction because they form membranes.",
            "Enzymes are mostly proteins that lower the activation energy of reactions. Competitive inhibitors "
            "resemble the substrate: malonate inhibits succinic dehydrogenase.",
        ),
        "biomolecule",
        (
            ("Cellulose", "is a homopolymer of glucose that forms plant cell walls"),
            ("Chitin", "is a complex polysaccharide forming the exoskeleton of arthropods"),
            ("Inulin", "is a polymer of fructose"),
            ("Collagen", "is the most abundant protein in the animal world"),
            ("RuBisCO", "is the most abundant protein in the whole biosphere"),
            ("Lecithin", "is a phospholipid found in cell membranes"),
        ),
    ),
    Chapter(
        "11",
        10,
        "Cell Cycle and Cell Division",
        ("Phases of cell cycle", "Mitosis", "Meiosis"),
        (
            "The cell cycle has interphase (G1, S, G2) and the M phase. DNA content doubles in the S phase while "
            "the chromosome number stays the same; a human cell takes about 24 hours to divide in culture.",
            "Mitosis is equational division that keeps chromosome number constant; meiosis halves it and creates "
            "variation through crossing over and independent assortment.",
        ),
        "stage of cell division",
        (
            ("Pachytene", "is the stage of prophase I in which crossing over occurs"),
            ("Zygotene", "is the stage in which homologous chromosomes pair by synapsis"),
            ("Diplotene", "is the stage in which chiasmata become visible"),
            ("Metaphase", "is the stage best suited to study chromosome morphology"),
            ("Anaphase", "is the stage in which centromeres split and chromatids move to opposite poles"),
            ("Diakinesis", "marks terminalisation of chiasmata before metaphase I"),
        ),
    ),
    Chapter(
        "11",
        11,
        "Transport in Plants",
        ("Diffusion and osmosis", "Water movement and transpiration", "Phloem transport"),
        (
            "Water moves from higher to lower water potential. The apoplast pathway runs through cell walls; the "
            "symplast pathway runs through cytoplasm linked by plasmodesmata.",
            "The cohesion-tension model explains the ascent of sap: transpiration pull draws a continuous water "
            "column up the xylem. Sugars move in the phloem by the pressure flow hypothesis.",
        ),
        "process",
        (
            ("Guttation", "is the loss of water as droplets through hydathodes at leaf tips"),
            ("Plasmolysis", "occurs when a cell placed in a hypertonic solution loses water"),
            ("Imbibition", "is the absorption of water by solids like seeds and dry wood"),
            ("Root pressure", "pushes water up short distances and is seen at night"),
            ("Transpiration", "is the evaporative loss of water through stomata"),
        ),
    ),
    Chapter(
        "11",
        12,
        "Mineral Nutrition",
        ("Essential elements", "Deficiency symptoms", "Nitrogen fixation"),
        (
            "Hydroponics showed which elements are essential. Macronutrients are needed in more than 10 mmol per "
            "kg of dry matter; micronutrients in less. Mobile elements show deficiency first in older leaves.",
            "Biological nitrogen fixation is carried out by nitrogenase, which works only under anaerobic "
            "conditions. In legume nodules, leg-haemoglobin, a pink pigment, scavenges oxygen.",
        ),
        "element",
        (
            ("Magnesium", "is a constituent of the ring structure of chlorophyll"),
            ("Molybdenum", "is a component of nitrogenase and nitrate reductase"),
            ("Zinc", "is needed to synthesise auxin and activates carboxylases"),
            ("Manganese", "is required for the splitting of water during photosynthesis"),
            ("Calcium", "forms the middle lamella as calcium pectate"),
            ("Boron", "is required for pollen germination and uptake of calcium"),
        ),
    ),
    Chapter(
        "11",
        13,
        "Photosynthesis in Higher Plants",
        ("Light reaction", "Calvin cycle", "C4 pathway and photorespiration"),
        (
            "Light reactions in the grana make ATP and NADPH and split water, releasing oxygen. The Calvin cycle "
            "in the stroma uses them to fix CO2 with RuBP, the first stable product being 3-phosphoglyceric acid.",
            "C4 plants like maize show Kranz anatomy and first fix CO2 into oxaloacetate with PEP carboxylase. "
            "They avoid photorespiration, in which RuBisCO binds oxygen instead of CO2.",
        ),
        "molecule",
        (
            ("RuBP", "is the primary CO2 acceptor in the Calvin cycle"),
            ("Phosphoenol pyruvate", "is the primary CO2 acceptor in mesophyll cells of C4 plants"),
            ("3-Phosphoglyceric acid", "is the first stable product of the C3 pathway"),
            ("Oxaloacetic acid", "is the first stable product of the C4 pathway"),
            ("Plastoquinone", "is a mobile electron carrier between photosystem II and cytochrome b6f"),
        ),
    ),
    Chapter(
        "11",
        14,
        "Respiration in Plants",
        ("Glycolysis", "Krebs cycle", "Electron transport system"),
        (
            "Glycolysis in the cytoplasm breaks one glucose into two pyruvate. Under aerobic conditions pyruvate "
            "enters mitochondria and is oxidised through the Krebs cycle and electron transport.",
            "The respiratory quotient is the ratio of CO2 evolved to O2 consumed: 1 for carbohydrates, about 0.7 "
            "for fats and about 0.9 for proteins.",
        ),
        "molecule",
        (
            ("Pyruvic acid", "is the end product of glycolysis"),
            ("Acetyl CoA", "links glycolysis to the Krebs cycle"),
            ("Citric acid", "is the first product of the Krebs cycle"),
            ("Oxygen", "is the final hydrogen acceptor in the electron transport system"),
            ("Cytochrome c", "is a small protein that shuttles electrons between complexes III and IV"),
        ),
    ),
    Chapter(
        "11",
        15,
        "Plant Growth and Development",
        ("Growth and differentiation", "Plant growth regulators", "Photoperiodism and vernalisation"),
        (
            "Plant growth is generally indeterminate and measured as increase in cell number, size or weight. "
            "The sigmoid growth curve has lag, log and stationary phases.",
            "Plant growth regulators are auxins, gibberellins, cytokinins, abscisic acid and ethylene. Flowering "
            "depends on day length (photoperiodism) and in some plants on a cold treatment (vernalisation).",
        ),
        "plant growth regulator",
        (
            ("Auxin", "causes apical dominance and promotes rooting in stem cuttings"),
            ("Gibberellin", "increases the length of the grape stalk and helps malting in brewing"),
            ("Cytokinin", "promotes cell division and delays leaf senescence"),
            ("Abscisic acid", "closes stomata and promotes seed dormancy"),
            ("Ethylene", "promotes fruit ripening and is a gaseous hormone"),
        ),
    ),
    Chapter(
        "11",
        16,
        "Digestion and Absorption",
        ("Alimentary canal", "Digestive glands", "Digestion and absorption"),
        (
            "The human alimentary canal runs from mouth to anus; the digestive glands are salivary glands, liver "
            "and pancreas. The liver is the largest gland and secretes bile, which emulsifies fats.",
            "Carbohydrates, proteins and fats are digested step by step by enzymes, and the products are absorbed "
            "mainly in the small intestine, whose villi greatly increase the absorptive surface.",
        ),
        "digestive enzyme",
        (
            ("Salivary amylase", "hydrolyses about 30 percent of starch into maltose in the mouth"),
            ("Pepsin", "converts proteins into proteoses and peptones in the stomach"),
            ("Rennin", "coagulates milk proteins in the stomach of infants"),
            ("Trypsin", "is activated by enterokinase in the small intestine"),
            ("Lipase", "breaks down fats into diglycerides, monoglycerides and fatty acids"),
            ("Nucleases", "act on nucleic acids to form nucleotides"),
        ),
    ),
    Chapter(
        "11",
        17,
        "Breathing and Exchange of Gases",
        ("Respiratory organs", "Mechanism of breathing", "Transport of gases"),
        (
            "Breathing involves inspiration, when the diaphragm and external intercostal muscles contract, and "
            "expiration, when they relax. A healthy human breathes 12 to 16 times a minute.",
            "About 97 percent of oxygen is carried by haemoglobin as oxyhaemoglobin; 20 to 25 percent of CO2 is "
            "carried as carbamino-haemoglobin and about 70 percent as bicarbonate.",
        ),
        "respiratory volume",
        (
            ("Tidal volume", "is the volume of air inspired or expired during normal breathing, about 500 mL"),
            ("Residual volume", "is the volume remaining in the lungs after forcible expiration"),
            ("Vital capacity", "is the maximum volume breathed out after a forced inspiration"),
            ("Inspiratory reserve volume", "is the additional air inspired by a forcible inspiration"),
            ("Expiratory reserve volume", "is the additional air expired by a forcible expiration"),
        ),
    ),
    Chapter(
        "11",
        18,
        "Body Fluids and Circulation",
        ("Blood and lymph", "Human heart and cardiac cycle", "Disorders of circulation"),
        (
            "Blood is a connective tissue of plasma and formed elements: erythrocytes, leucocytes and platelets. "
            "Lymph returns tissue fluid to the blood and carries absorbed fats.",
            "The human heart has four chambers. The sino-atrial node is the pacemaker; a cardiac cycle lasts "
            "0.8 seconds at 72 beats per minute, and the ECG records its electrical activity.",
        ),
        "component of blood",
        (
            ("Neutrophils", "are the most abundant leucocytes and are phagocytic"),
            ("Basophils", "secrete histamine, serotonin and heparin"),
            ("Eosinophils", "resist infections and are associated with allergic reactions"),
            ("Lymphocytes", "are responsible for the immune responses of the body"),
            ("Platelets", "release factors that start blood coagulation"),
            ("Erythrocytes", "are the most abundant formed elements and carry haemoglobin"),
        ),
    ),
    Chapter(
        "11",
        19,
        "Excretory Products and their Elimination",
        ("Modes of excretion", "Human excretory system", "Regulation of kidney function"),
        (
            "Animals excrete ammonia (ammonotelic, most bony fishes), urea (ureotelic, mammals) or uric acid "
            "(uricotelic, birds and reptiles). The nephron is the functional unit of the kidney.",
            "About 180 litres of filtrate form each day but only 1.5 litres of urine leave the body. ADH and the "
            "renin-angiotensin mechanism regulate how much water the kidney reabsorbs.",
        ),
        "part of the nephron",
        (
            ("Glomerulus", "filters blood under pressure in the Bowman's capsule"),
            (
                "Proximal convoluted tubule",
                "reabsorbs nearly all essential nutrients and 70 to 80 percent of electrolytes",
            ),
            ("Descending limb of loop of Henle", "is permeable to water but almost impermeable to electrolytes"),
            ("Ascending limb of loop of Henle", "is impermeable to water but transports electrolytes"),
            ("Collecting duct", "allows passage of small amounts of urea into the medulla to keep it hyperosmolar"),
        ),
    ),
    Chapter(
        "11",
        20,
        "Locomotion and Movement",
        ("Types of movement", "Muscle contraction", "Skeletal system and joints"),
        (
            "Human cells show amoeboid, ciliary and muscular movement. Muscle contraction follows the sliding "
            "filament theory: actin filaments slide over myosin, and calcium ions trigger the process.",
            "The human skeleton has 206 bones: 80 in the axial and 126 in the appendicular skeleton. Joints are "
            "fibrous, cartilaginous or synovial.",
        ),
        "joint",
        (
            ("Ball and socket joint", "is found between the humerus and the pectoral girdle"),
            ("Hinge joint", "is found at the knee"),
            ("Pivot joint", "is found between the atlas and the axis"),
            ("Gliding joint", "is found between the carpals"),
            ("Saddle joint", "is found between the carpal and metacarpal of the thumb"),
        ),
    ),
    Chapter(
        "11",
        21,
        "Neural Control and Coordination",
        ("Neuron and nerve impulse", "Central nervous system", "Reflex action"),
        (
            "A neuron at rest has a resting potential with the inside negative; a stimulus opens sodium channels "
            "and the impulse travels as a wave of depolarisation. Synapses pass it on electrically or chemically.",
            "The brain has the forebrain, midbrain and hindbrain. The hypothalamus controls body temperature, "
            "hunger and thirst and releases hormones that act on the pituitary.",
        ),
        "part of the brain",
        (
            ("Cerebellum", "maintains posture and balance of the body"),
            ("Medulla oblongata", "controls respiration, cardiovascular reflexes and gastric secretions"),
            ("Hypothalamus", "controls body temperature, urge for eating and drinking"),
            ("Corpus callosum", "connects the two cerebral hemispheres"),
            ("Pons", "consists of fibre tracts that interconnect different regions of the brain"),
        ),
    ),
    Chapter(
        "11",
        22,
        "Chemical Coordination and Integration",
        ("Endocrine glands", "Hormones of the pituitary and thyroid", "Mechanism of hormone action"),
        (
            "Hormones are non-nutrient chemicals that act as intercellular messengers in trace amounts. The "
            "hypothalamus and pituitary together control most other endocrine glands.",
            "Protein hormones act through membrane receptors and second messengers such as cyclic AMP; steroid "
            "hormones enter the cell and act on genes through intracellular receptors.",
        ),
        "hormone",
        (
            ("Insulin", "lowers blood glucose by increasing its uptake by hepatocytes and adipocytes"),
            ("Glucagon", "raises blood glucose by stimulating glycogenolysis"),
            ("Thyroxine", "regulates the basal metabolic rate"),
            ("Melatonin", "regulates the diurnal rhythm of the body"),
            ("Parathyroid hormone", "increases the Ca2+ level in the blood"),
            ("Oxytocin", "stimulates contraction of smooth muscles of the uterus during childbirth"),
        ),
    ),
)

CLASS_12 = (
    Chapter(
        "12",
        1,
        "Reproduction in Organisms",
        ("Life span", "Asexual reproduction", "Sexual reproduction"),
        (
            "Life span ranges from a day for some insects to centuries for trees. Reproduction is asexual, with "
            "one parent and clones as offspring, or sexual, with the fusion of gametes.",
            "Sexual reproduction passes through pre-fertilisation, fertilisation and post-fertilisation events. "
            "Organisms that bear both sexes are bisexual (hermaphrodite) or monoecious in plants.",
        ),
        "organism",
        (
            ("Amoeba", "reproduces asexually by binary fission"),
            ("Yeast", "reproduces asexually by budding"),
            ("Penicillium", "reproduces asexually by conidia"),
            ("Hydra", "reproduces asexually by buds"),
            ("Water hyacinth", "spreads fast by offsets and is called the terror of Bengal"),
        ),
    ),
    Chapter(
        "12",
        2,
        "Sexual Reproduction in Flowering Plants",
        ("Microsporogenesis and pollen", "Pollination", "Double fertilisation and seed"),
        (
            "The stamen bears a bilobed, dithecous anther in which microspore mother cells divide by meiosis to "
            "form pollen tetrads. The pistil has stigma, style and ovary; the typical embryo sac is 7-celled, 8-nucleate.",
            "Angiosperms show double fertilisation: one male gamete fuses with the egg to form the zygote and the "
            "other with the two polar nuclei to form the triploid primary endosperm nucleus.",
        ),
        "structure",
        (
            ("Tapetum", "is the innermost wall layer of the anther that nourishes developing pollen"),
            ("Exine", "is made of sporopollenin, the most resistant organic material known"),
            ("Synergids", "have filiform apparatus that guides the pollen tube into the embryo sac"),
            ("Nucellus", "is the mass of cells inside the ovule that stores food"),
            ("Scutellum", "is the single cotyledon of a grass embryo"),
            ("Perisperm", "is the persistent nucellus seen in black pepper and beet"),
        ),
    ),
    Chapter(
        "12",
        3,
        "Human Reproduction",
        ("Male and female reproductive systems", "Gametogenesis and menstrual cycle", "Fertilisation and pregnancy"),
        (
            "Spermatogenesis begins at puberty in the seminiferous tubules; oogenesis begins before birth, and "
            "oocytes remain arrested in prophase I until puberty.",
            "The menstrual cycle lasts about 28 days; ovulation occurs around day 14 after an LH surge. "
            "Fertilisation happens in the ampullary region of the oviduct.",
        ),
        "structure",
        (
            ("Sertoli cells", "provide nutrition to developing sperm"),
            ("Leydig cells", "synthesise and secrete testicular hormones called androgens"),
            ("Corpus luteum", "secretes large amounts of progesterone after ovulation"),
            ("Acrosome", "is the cap of the sperm head filled with enzymes that help fertilisation"),
            ("Trophoblast", "is the outer layer of the blastocyst that attaches to the endometrium"),
        ),
    ),
    Chapter(
        "12",
        4,
        "Reproductive Health",
        ("Population and birth control", "Medical termination of pregnancy", "Infertility and ART"),
        (
            "India was among the first countries to start national family planning programmes, in 1951. "
            "Contraceptives include natural methods, barriers, IUDs, oral pills, injectables and surgical methods.",
            "Assisted reproductive technologies help infertile couples: IVF with embryo transfer, GIFT, ZIFT, "
            "ICSI and artificial insemination.",
        ),
        "method",
        (
            ("Saheli", "is a once-a-week non-steroidal oral contraceptive pill"),
            ("Copper T", "releases copper ions that suppress sperm motility"),
            ("Vasectomy", "is a surgical method in which a part of the vas deferens is removed"),
            ("Lactational amenorrhoea", "relies on the absence of menstruation during intense breastfeeding"),
            ("ZIFT", "transfers the zygote or an early embryo with up to 8 blastomeres into the fallopian tube"),
            ("ICSI", "injects a sperm directly into the ovum"),
        ),
    ),
    Chapter(
        "12",
        5,
        "Principles of Inheritance and Variation",
        ("Mendel's laws", "Chromosomal theory and linkage", "Genetic disorders"),
        (
            "Mendel's experiments on garden pea gave the laws of dominance, segregation and independent "
            "assortment. A monohybrid cross gives a 3:1 phenotypic ratio in F2, a dihybrid cross 9:3:3:1.",
            "Morgan's work on *Drosophila* showed linkage and recombination. Disorders may be Mendelian "
            "(haemophilia, sickle-cell anaemia) or chromosomal (Down's syndrome).",
        ),
        "genetic disorder",
        (
            ("Down's syndrome", "is caused by trisomy of chromosome 21"),
            ("Klinefelter's syndrome", "results from the karyotype 47, XXY"),
            ("Turner's syndrome", "results from the karyotype 45, X0"),
            ("Sickle-cell anaemia", "results from substitution of glutamic acid by valine in the beta globin chain"),
            ("Phenylketonuria", "is an inborn error of metabolism in which phenylalanine is not converted to tyrosine"),
            ("Haemophilia", "is a sex-linked recessive disease in which a small cut bleeds without stopping"),
        ),
    ),
    Chapter(
        "12",
        6,
        "Molecular Basis of Inheritance",
        ("DNA structure and replication", "Transcription and genetic code", "Regulation and human genome"),
        (
            "Watson and Crick proposed the double helix in 1953. DNA replicates semi-conservatively, as "
            "Meselson and Stahl showed using heavy nitrogen in *E. coli*.",
            "The lac operon of *E. coli* is an inducible system; lactose acts as the inducer. The Human Genome "
            "Project found about 3 x 10^9 bp and an estimated 20,000 to 25,000 genes.",
        ),
        "molecule or enzyme",
        (
            ("DNA ligase", "joins the discontinuously synthesised fragments of the lagging strand"),
            ("RNA polymerase I", "transcribes rRNAs 28S, 18S and 5.8S in eukaryotes"),
            ("RNA polymerase III", "transcribes tRNA, 5S rRNA and snRNAs in eukaryotes"),
            ("Helicase", "unwinds the DNA double helix at the replication fork"),
            ("tRNA", "is the adapter molecule that reads the code and carries amino acids"),
        ),
    ),
    Chapter(
        "12",
        7,
        "Evolution",
        ("Origin of life", "Evidence for evolution", "Mechanism of evolution and human evolution"),
        (
            "Miller's experiment showed that amino acids could form from CH4, H2, NH3 and water vapour with "
            "electric discharge. Darwin's theory rests on variation and natural selection.",
            "The Hardy-Weinberg principle states that allele frequencies stay constant in a population unless "
            "gene flow, genetic drift, mutation, recombination or natural selection disturb them.",
        ),
        "example",
        (
            ("Industrial melanism", "shows natural selection in peppered moths of England"),
            ("Darwin's finches", "show adaptive radiation on the Galapagos islands"),
            ("Australian marsupials", "show adaptive radiation on one continent"),
            ("Thorn of Bougainvillea and tendril of Cucurbita", "are homologous organs"),
            ("Wings of butterfly and bird", "are analogous organs"),
        ),
    ),
    Chapter(
        "12",
        8,
        "Human Health and Disease",
        ("Common diseases in humans", "Immunity", "Cancer and drug abuse"),
        (
            "Pathogens include bacteria, viruses, fungi, protozoans and helminths. Innate immunity is present at "
            "birth; acquired immunity is pathogen-specific and has memory.",
            "HIV infects helper T-lymphocytes and causes AIDS. Cancer cells lose contact inhibition; drugs and "
            "alcohol abuse harm the user, the family and society.",
        ),
        "disease",
        (
            ("Typhoid", "is caused by Salmonella typhi and confirmed by the Widal test"),
            ("Pneumonia", "is caused by Streptococcus pneumoniae and Haemophilus influenzae"),
            ("Malaria", "is caused by Plasmodium and transmitted by female Anopheles mosquito"),
            ("Amoebiasis", "is caused by Entamoeba histolytica in the large intestine"),
            ("Ascariasis", "is caused by the intestinal parasite Ascaris"),
            ("Ringworm", "is caused by fungi of the genera Microsporum, Trichophyton and Epidermophyton"),
        ),
    ),
    Chapter(
        "12",
        9,
        "Strategies for Enhancement in Food Production",
        ("Animal husbandry", "Plant breeding", "Single cell protein and tissue culture"),
        (
            "Animal husbandry includes dairy, poultry, fisheries and apiculture. Inbreeding increases "
            "homozygosity; out-crossing and cross-breeding introduce new traits.",
            "Plant breeding has produced disease-resistant and high-yielding varieties. Tissue culture allows "
            "micropropagation and recovery of healthy plants from virus-infected plants by meristem culture.",
        ),
        "variety or product",
        (
            ("Hisardale", "is a new breed of sheep developed by crossing Bikaneri ewes and Marino rams"),
            ("Pusa Sawani", "is a bhindi variety resistant to shoot and fruit borer"),
            ("Atlas 66", "is a wheat variety with high protein content used as a donor"),
            ("Spirulina", "is a microbe grown as a rich source of single cell protein"),
            ("Pomato", "is a somatic hybrid of potato and tomato"),
        ),
    ),
    Chapter(
        "12",
        10,
        "Microbes in Human Welfare",
        ("Microbes in household products", "Industrial products", "Sewage treatment and biocontrol"),
        (
            "Lactic acid bacteria turn milk into curd and improve its vitamin B12. Baker's yeast leavens dough, "
            "and microbes give us antibiotics, organic acids, enzymes and bioactive molecules.",
            "Sewage is treated in primary and secondary stages; flocs of bacteria digest organic matter, lowering "
            "the BOD. Biogas and biofertilisers reduce dependence on fossil fuels and chemicals.",
        ),
        "microbe",
        (
            ("Aspergillus niger", "is used to produce citric acid"),
            ("Acetobacter aceti", "is used to produce acetic acid"),
            ("Clostridium butylicum", "is used to produce butyric acid"),
            ("Trichoderma polysporum", "produces cyclosporin A used as an immunosuppressive agent"),
            ("Monascus purpureus", "produces statins that lower blood cholesterol"),
            ("Streptococcus", "produces streptokinase used to remove clots from blood vessels"),
        ),
    ),
    Chapter(
        "12",
        11,
        "Biotechnology: Principles and Processes",
        ("Tools of recombinant DNA technology", "Cloning vectors", "Processes of recombinant DNA technology"),
        (
            "Recombinant DNA technology uses restriction enzymes, ligases, vectors and a host. The first "
            "recombinant DNA was made by Cohen and Boyer in 1972 by linking an antibiotic resistance gene to a plasmid.",
            "DNA fragments are separated by gel electrophoresis, amplified by PCR and expressed in bioreactors; "
            "downstream processing purifies the product.",
        ),
        "tool",
        (
            ("EcoRI", "is a restriction endonuclease that recognises GAATTC and leaves sticky ends"),
            ("Taq polymerase", "is a thermostable DNA polymerase used in PCR"),
            ("pBR322", "is an E. coli cloning vector with ampicillin and tetracycline resistance genes"),
            ("Ethidium bromide", "stains DNA so that it is seen as orange bands under UV light"),
            ("Agrobacterium tumefaciens", "delivers a piece of DNA called T-DNA into dicot plant cells"),
        ),
    ),
    Chapter(
        "12",
        12,
        "Biotechnology and its Applications",
        ("Applications in agriculture", "Applications in medicine", "Transgenic animals and ethics"),
        (
            "Bt cotton carries cry genes from *Bacillus thuringiensis*; their protoxin becomes toxic in the "
            "alkaline gut of insects. RNA interference protects tobacco from the nematode *Meloidogyne incognita*.",
            "Genetically engineered insulin, gene therapy for ADA deficiency and molecular diagnosis by PCR and "
            "ELISA are medical applications. GEAC regulates GM research in India.",
        ),
        "product",
        (
            ("Cry IAc", "is a Bt protein that controls cotton bollworms"),
            ("Cry IAb", "is a Bt protein that controls corn borer"),
            ("Humulin", "is human insulin made by Eli Lilly using E. coli"),
            ("Rosie", "is a transgenic cow whose milk contains human alpha-lactalbumin"),
            ("Golden rice", "is a transgenic variety rich in vitamin A"),
        ),
    ),
    Chapter(
        "12",
        13,
        "Organisms and Populations",
        ("Organism and its environment", "Population attributes and growth", "Population interactions"),
        (
            "Temperature, water, light and soil are the major abiotic factors. Organisms regulate, conform, "
            "migrate or suspend activity to cope with stress.",
            "Population growth is exponential when resources are unlimited and logistic when they are limited; "
            "interactions include mutualism, competition, predation, parasitism, commensalism and amensalism.",
        ),
        "interaction",
        (
            ("Mutualism", "benefits both species, as in lichens and mycorrhizae"),
            ("Commensalism", "benefits one species while the other is neither harmed nor benefited"),
            ("Parasitism", "benefits one species at the expense of its host"),
            ("Amensalism", "harms one species while the other is unaffected"),
            ("Competition", "harms both species that share limited resources"),
        ),
    ),
    Chapter(
        "12",
        14,
        "Ecosystem",
        ("Structure and productivity", "Decomposition and energy flow", "Ecological pyramids and succession"),
        (
            "An ecosystem has producers, consumers and decomposers. Gross primary productivity minus respiration "
            "losses gives net primary productivity; only about 10 percent of energy passes to the next level.",
            "Ecological pyramids of number, biomass and energy show trophic structure; the pyramid of energy is "
            "always upright. Succession proceeds from pioneer communities to a climax community.",
        ),
        "ecological term",
        (
            ("Standing crop", "is the mass of living material at a trophic level at a particular time"),
            ("Detritus", "is dead plant remains and animal remains that decomposers break down"),
            ("Humification", "leads to accumulation of a dark amorphous substance resistant to microbes"),
            ("Pioneer species", "is the first to invade a bare area in succession"),
            ("Net primary productivity", "is the biomass available for consumption by heterotrophs"),
        ),
    ),
    Chapter(
        "12",
        15,
        "Biodiversity and Conservation",
        ("Biodiversity and its patterns", "Loss of biodiversity", "Conservation"),
        (
            "India has only 2.4 percent of the world's land but 8.1 percent of its species diversity and is one "
            "of the 12 mega-diversity countries. Species diversity decreases from the equator to the poles.",
            "The 'evil quartet' causing loss of biodiversity is habitat loss, over-exploitation, alien species "
            "invasions and co-extinctions. Conservation is in situ (biosphere reserves) or ex situ (zoos, seed banks).",
        ),
        "term",
        (
            ("Hotspots", "are regions of very high species richness and high endemism"),
            ("Sacred groves", "are forest patches protected by tribal communities for religious reasons"),
            ("Cryopreservation", "keeps gametes of threatened species viable for long periods"),
            ("Alien species invasion", "is illustrated by Nile perch in Lake Victoria"),
            ("Co-extinction", "is illustrated by a parasite dying out with its host fish"),
        ),
    ),
    Chapter(
        "12",
        16,
        "Environmental Issues",
        ("Air and water pollution", "Solid wastes and agrochemicals", "Ozone depletion and deforestation"),
        (
            "Electrostatic precipitators remove over 99 percent of particulate matter from exhaust; catalytic "
            "converters reduce emissions from vehicles. Particles of 2.5 micrometres or less harm health the most.",
            "Excess nutrients cause eutrophication, and non-biodegradable chemicals undergo biomagnification, as "
            "DDT did in birds. CFCs deplete stratospheric ozone; the Montreal Protocol controls them.",
        ),
        "term",
        (
            ("Biomagnification", "is the increase in concentration of a toxicant at successive trophic levels"),
            ("Eutrophication", "is the natural ageing of a lake by nutrient enrichment"),
            ("Algal bloom", "is excess growth of planktonic algae that colours the water"),
            ("Jhum cultivation", "is slash and burn agriculture"),
            ("Chipko movement", "was started in Garhwal Himalayas in 1974 to protect trees"),
        ),
    ),
)

CHAPTERS = CLASS_11 + CLASS_12
