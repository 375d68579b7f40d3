"""The Spanish translation of the seed project (../shared/seed/andes-amazon-corridor.txt).

Proper names stay as they are: Rainforest Trust, Pronaturaleza, Manu, Amarakaeri,
Kosñipata, Paucartambo, Madre de Dios, Q'eros, Harakbut, photo credits and scientific names.
Each list follows the order of its English counterpart in projects/services/demo.py.
"""

from __future__ import annotations

TITLE = "Asegurando la piedra angular del Corredor de Conservación Andes-Amazonía"

SUMMARY = """Los Andes Tropicales, que se extienden desde Argentina hasta Colombia, son una de las regiones con mayor biodiversidad del mundo, pero queda intacto menos del 25 por ciento de su hábitat. Aunque se la considera un punto caliente de biodiversidad con un gran número de especies endémicas, la región está muy amenazada por la destrucción y la fragmentación del hábitat.

En la región de los Andes del sur del Perú existe una gran red de áreas protegidas que va desde los Andes altos hasta la Amazonía baja, a lo largo de la frontera con Brasil. En conjunto, esta red protege más de 6 millones de acres. Sin embargo, falta una pieza clave que consolide estas áreas protegidas y fortalezca toda la red, asegurando un corredor completo de protección desde la Amazonía hasta los Andes del Perú.

Para crear esta pieza que falta, Rainforest Trust y su socio local Pronaturaleza buscan 303.600 US$ para designar 285.288 acres como Área de Conservación Regional. La Unión Internacional para la Conservación de la Naturaleza ya ha identificado la región como Área Clave para la Biodiversidad, y el establecimiento de esta Área de Conservación Regional contribuirá a proteger las cabeceras de la cuenca del río Madre de Dios y más de 50 especies endémicas."""

PROJECT = {
    "title": TITLE,
    "summary": SUMMARY,
    "country": "Perú",
    "habitat": "Los Andes Tropicales; pajonales de puna húmeda, bosques nublados y bosques altoandinos",
    "conservation_action": "Designación de una nueva reserva regional",
    "main_threat": "Crecimiento de la minería ilegal",
    "hero_alt": "Ilustración: crestas montañosas entre la niebla sobre un valle con un río sinuoso",
    "hero_caption": (
        "Ilustración del valle de Kosñipata, en lugar de la foto de la página original "
        "“Vista del paisaje.” (Michell Leon/PRONATURALEZA)."
    ),
}

# Common names, in the order of demo.SPECIES.
SPECIES = [
    "Rana de cristal de Trueb",
    "Gato andino",
    "Rana andina del Cusco",
    "Mono choro de Geoffroy",
]

# (title, description), in the order of demo.THREATS.
THREATS = [
    (
        "Minería ilegal de oro",
        "Crecimiento acelerado de la minería ilegal de oro en tierras de las comunidades "
        "locales, en las partes altas del distrito de Paucartambo.",
    ),
    (
        "La minería aluvial avanza río arriba",
        "La minería aluvial en el río Madre de Dios se está extendiendo desde la parte baja "
        "del río hacia las cabeceras.",
    ),
    (
        "Asentamientos y proyectos de carreteras",
        "Los asentamientos y los proyectos de carreteras de la zona (p. ej., Pilcopata - "
        "Quincemil) podrían causar la conversión y la fragmentación del hábitat.",
    ),
    (
        "Intereses mineros en las elecciones locales",
        "Las elecciones de autoridades regionales y locales de octubre de 2019 podrían dar "
        "más visibilidad a quienes invierten en la minería.",
    ),
]

# (title, lead, body), in the order of demo.SECTIONS.
SECTIONS = [
    (
        "Hábitat y especies",
        "Este territorio es fundamental para la conectividad biológica, ya que unirá el "
        "Parque Nacional del Manu, de casi 5 millones de acres, con la Reserva Comunal "
        "Amarakaeri, de casi 1 millón de acres...",
        "<p>Este territorio es fundamental para la conectividad biológica, ya que unirá el Parque Nacional del Manu, de casi 5 millones de acres, con la Reserva Comunal Amarakaeri, de casi 1 millón de acres, que comprenden hábitats diversos como pajonales de puna húmeda, bosques nublados y bosques altoandinos. Esta variedad de hábitats a distintas altitudes contribuye en gran medida a la enorme cantidad de especies únicas de la zona. Una de ellas es la rana de cristal de Trueb, en Peligro Crítico, endémica del valle de Kosñipata. Se cree que la especie se ha extinguido a causa de la quitridiomicosis, una enfermedad causada por un hongo, pero aún no se ha confirmado. Por ello, el socio local realizará los estudios que se necesitan con urgencia para verificar la existencia de la rana. Otra especie amenazada que se encuentra en la zona es el gato andino, En Peligro, considerado un animal sagrado según las tradiciones de las comunidades indígenas que habitan la región de los Andes Tropicales. Se estima que quedan menos de 3.000 gatos andinos en estado silvestre.</p>",
    ),
    (
        "Amenazas",
        "La amenaza más importante de la zona es el crecimiento acelerado de la minería "
        "ilegal de oro en tierras de las comunidades locales, situadas en las partes altas "
        "del distrito de Paucartambo.",
        "<p>Los recursos minerales de la zona han impulsado la minería aluvial en el río Madre de Dios, que ahora se extiende desde la parte baja del río hacia las cabeceras. Otras amenazas potenciales son los asentamientos y los proyectos de carreteras de la zona, que podrían generar impactos negativos por la conversión y la fragmentación del hábitat (p. ej., Pilcopata - Quincemil). En la zona también hay varias comunidades locales, y su participación cooperativa será clave para el éxito de los esfuerzos de conservación. Además, las elecciones de autoridades regionales y locales de octubre de 2019 podrían dar más visibilidad a quienes invierten en la minería como estrategia para aumentar sus ganancias económicas.</p>",
    ),
    (
        "Comunidades",
        "No hay comunidades locales dentro de la propuesta de designación del Área de "
        "Conservación Regional.",
        "<p>Sin embargo, hay varias comunidades indígenas en los alrededores. En la vertiente altoandina vive una población quechua conocida como “Q’eros”, que con el tiempo se ha adaptado a usar sus recursos naturales de forma sostenible. Ya se han mantenido conversaciones con los Q’eros para conocer su interés y su disposición a cooperar, con resultados muy positivos. Otras comunidades identificadas en los alrededores son las comunidades locales de Pilcopata, Chontachaca y Patria, y la población indígena Harakbut. Por ello, el fortalecimiento de capacidades se considera parte integral de esta propuesta.</p>",
    ),
    (
        "Solución",
        "Rainforest Trust y su socio local buscan 303.600 US$ para designar 285.288 acres "
        "como Área de Conservación Regional y proteger la riqueza biológica y cultural de la "
        "región de los Andes Tropicales.",
        "<p>Para lograrlo, el socio local trabajará con el gobierno regional del Cusco y el gobierno local de Kosñipata para superar los retos de la gestión de tierras públicas. Además, el socio trabajará para fortalecer las capacidades de los actores locales y atender activamente sus inquietudes, en especial las de las comunidades indígenas de la zona. Esta nueva designación establecerá un corredor de protección desde la región de los Andes Tropicales del Perú hasta sus bosques amazónicos. Conectará parques nacionales con reservas comunales, formando una red de protección que abarca millones de acres.</p>",
    ),
]

# (caption, alt text), in the order of demo.PHOTOS (illustrations standing in for the
# seed page's photos, and saying so).
PHOTOS = [
    (
        "Ilustración del hábitat de bosque nublado de la lagartija, en lugar de la foto de la "
        "página original “Una especie de lagartija andina descubierta recientemente "
        "(Proctoporus machupicchu).”",
        "Ilustración: crestas de bosque nublado en capas entre la niebla",
    ),
    (
        "Ilustración de pozas de relaves de la minería de oro, en lugar de la foto de la "
        "página original “Pozas de relaves de la minería de oro.”",
        "Ilustración: suelo marrón desnudo lleno de pozas bajo colinas con niebla",
    ),
    (
        "Ilustración de un pueblo altoandino, en lugar de la foto de la página original "
        "“Miembros de una comunidad indígena local.”",
        "Ilustración: casas pequeñas con techos rojos en una ladera verde bajo las montañas",
    ),
    (
        "Ilustración de bosque intacto a lo largo de un río, en lugar de la foto de la página "
        "original “Hermosos bosques intactos.” (Michell Leon/PRONATURALEZA).",
        "Ilustración: un río que serpentea entre colinas boscosas",
    ),
]
